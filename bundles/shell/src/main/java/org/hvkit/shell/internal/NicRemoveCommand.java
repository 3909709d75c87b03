package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.Hypervisor;

/** Ganeti's {@code HotDelDevice} for a NIC: {@code hv:nic-remove NAME MAC}. */
@Command(scope = "hv", name = "nic-remove", description = "Hot-removes the NIC with the given MAC from a running"
        + " instance: the guest is asked to release it (a bounded wait), then its tap goes.")
@Service
public final class NicRemoveCommand extends InstanceAction {

    @Argument(index = 1, name = "mac", required = true, description = "The MAC address of the NIC to remove")
    String mac;

    @Override
    Object run(HypervisorRegistry.Entry entry) throws Exception {
        Hypervisor hv = entry.hypervisor();
        hv.hotRemoveNic(running(hv, name, "hot-remove a NIC from"), mac);
        System.out.println("Instance " + name + " on " + entry.label() + ": NIC " + mac + " removed");
        return null;
    }
}
