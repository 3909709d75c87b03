package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.Nic;

/** Ganeti's {@code HotModDevice} for a NIC: {@code hv:nic-modify NAME MAC --link OTHER_BRIDGE}. */
@Command(scope = "hv", name = "nic-modify", description = "Moves the host side of a running instance's NIC (found by"
        + " its MAC) to another bridge, or to routed mode; the guest keeps the NIC. A failure restores the old"
        + " connection.")
@Service
public final class NicModifyCommand extends InstanceAction {

    @Argument(index = 1, name = "mac", required = true, description = "The MAC address of the NIC to move")
    String mac;

    @Option(name = "--mode", description = "bridged (default) or routed")
    String mode = "bridged";

    @Option(name = "--link", description = "The bridge (bridged), or the routing table (routed; empty: main)")
    String link = "";

    @Option(name = "--ip", description = "The guest's IP address (required for routed)")
    String ip;

    @Override
    Object run(HypervisorRegistry.Entry entry) throws Exception {
        Nic nic = NicAddCommand.nic(mac, mode, link, ip);
        Hypervisor hv = entry.hypervisor();
        hv.hotModifyNic(NicRemoveCommand.running(hv, name, "modify a NIC of"), nic);
        System.out.println("Instance " + name + " on " + entry.label() + ": NIC " + nic.mac() + " now "
                + nic.mode().ganetiName() + (nic.link().isEmpty() ? "" : " " + nic.link())
                + (nic.ip() == null ? "" : ", ip " + nic.ip()));
        return null;
    }
}
