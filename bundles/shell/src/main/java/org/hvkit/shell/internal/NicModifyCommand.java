package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.Nic;

/** Ganeti's {@code HotModDevice} for a NIC: {@code hv:nic-modify NAME MAC --link OTHER_BRIDGE}. */
@Command(scope = "hv", name = "nic-modify", description = "Moves the host side of a running instance's NIC (found by"
        + " its MAC) to another bridge, or to routed mode; the guest keeps the NIC. A failure restores the old"
        + " connection.")
@Service
public final class NicModifyCommand extends NicAction {

    @Override
    Object run(HypervisorRegistry.Entry entry) throws Exception {
        Nic nic = nic();
        Hypervisor hv = entry.hypervisor();
        hv.hotModifyNic(running(hv, name, "modify a NIC of"), nic);
        System.out.println("Instance " + name + " on " + entry.label() + ": NIC " + nic.mac() + " now "
                + connection(nic));
        return null;
    }
}
