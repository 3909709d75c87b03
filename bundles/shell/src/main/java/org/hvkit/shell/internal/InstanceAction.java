package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Completion;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;

/** Base of the commands that act on one live instance, found by name among the hypervisors. */
abstract class InstanceAction extends SelectingAction {

    @Argument(index = 0, name = "name", required = true, description = "Instance name")
    @Completion(InstanceNameCompleter.class)
    String name;

    @Override
    final Object run(HypervisorRegistry registry) throws Exception {
        return run(registry.locate(name, type, node));
    }

    abstract Object run(HypervisorRegistry.Entry entry) throws Exception;

    /** The running instance {@code name} as {@code hv} defines it, or "Cannot {@code what} instance NAME: not running". */
    static Instance running(Hypervisor hv, String name, String what) throws HypervisorException {
        Instance instance = hv.runningInstance(name);
        if (instance == null) {
            throw new HypervisorException("Cannot " + what + " instance " + name + ": not running");
        }
        return instance;
    }
}
