package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.Nic;

/** Ganeti's {@code HotAddDevice} for a NIC: {@code hv:nic-add NAME MAC --link BRIDGE}. */
@Command(scope = "hv", name = "nic-add", description = "Hot-adds a NIC to a running instance: a new tap connected like"
        + " the NICs at start (bridged to --link, or routed to --ip); the guest sees a new network interface, and a"
        + " reboot or a migration keeps it.")
@Service
public final class NicAddCommand extends NicAction {

    @Override
    Object run(HypervisorRegistry.Entry entry) throws Exception {
        Nic nic = nic();
        Hypervisor hv = entry.hypervisor();
        hv.hotAddNic(running(hv, name, "hot-add a NIC to"), nic);
        System.out.println("Instance " + name + " on " + entry.label() + ": NIC " + nic.mac() + " added ("
                + connection(nic) + ")");
        return null;
    }
}
