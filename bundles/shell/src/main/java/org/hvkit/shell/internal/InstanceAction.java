package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Completion;

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
}
