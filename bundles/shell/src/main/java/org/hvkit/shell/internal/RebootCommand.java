package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;

@Command(scope = "hv", name = "reboot", description = "Soft reboot: a clean stop (forced after the stop timeout),"
        + " then a start from the saved runtime on the same node.")
@Service
public final class RebootCommand extends InstanceAction {

    @Override
    Object run(HypervisorRegistry.Entry entry) throws Exception {
        Instance instance = entry.hypervisor().runningInstance(name);
        if (instance == null) {
            throw new HypervisorException("Failed to reboot instance " + name + ": not running");
        }
        entry.hypervisor().rebootInstance(instance);
        System.out.println("Instance " + name + " rebooted on " + entry.label());
        return null;
    }
}
