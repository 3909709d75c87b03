package org.hvkit.shell.internal;

import java.util.Locale;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;

/** Ganeti's {@code HotAddDevice} for a NIC: {@code hv:nic-add NAME MAC --link BRIDGE}. */
@Command(scope = "hv", name = "nic-add", description = "Hot-adds a NIC to a running instance: a new tap connected like"
        + " the NICs at start (bridged to --link, or routed to --ip); the guest sees a new network interface, and a"
        + " reboot or a migration keeps it.")
@Service
public final class NicAddCommand extends InstanceAction {

    @Argument(index = 1, name = "mac", required = true, description = "The new NIC's MAC address (aa:bb:cc:dd:ee:ff)")
    String mac;

    @Option(name = "--mode", description = "bridged (default) or routed")
    String mode = "bridged";

    @Option(name = "--link", description = "The bridge (bridged), or the routing table (routed; empty: main)")
    String link = "";

    @Option(name = "--ip", description = "The guest's IP address (required for routed)")
    String ip;

    @Override
    Object run(HypervisorRegistry.Entry entry) throws Exception {
        Nic nic = nic(mac, mode, link, ip);
        Hypervisor hv = entry.hypervisor();
        Instance instance = NicRemoveCommand.running(hv, name, "hot-add a NIC to");
        hv.hotAddNic(instance, nic);
        System.out.println("Instance " + name + " on " + entry.label() + ": NIC " + nic.mac() + " added ("
                + nic.mode().ganetiName() + (nic.link().isEmpty() ? "" : " " + nic.link())
                + (nic.ip() == null ? "" : ", ip " + nic.ip()) + ")");
        return null;
    }

    /** The NIC the options describe, or an error naming the option and what it allows. */
    static Nic nic(String mac, String mode, String link, String ip) throws HypervisorException {
        NicMode m;
        String md = mode == null ? "" : mode.strip().toLowerCase(Locale.ROOT);
        if ("bridged".equals(md)) {
            m = NicMode.BRIDGED;
        } else if ("routed".equals(md)) {
            m = NicMode.ROUTED;
        } else {
            String shown = mode == null ? "" : mode.length() > 20 ? mode.substring(0, 20) + "…" : mode;
            throw new HypervisorException("--mode must be bridged or routed, got '"
                    + shown.replaceAll("\\p{Cntrl}", "?") + "'");
        }
        try {
            return new Nic(mac == null ? "" : mac.strip().toLowerCase(Locale.ROOT), ip == null || ip.isBlank() ? null
                    : ip.strip(), m, link == null ? "" : link.strip());
        } catch (IllegalArgumentException e) {
            throw new HypervisorException("Bad NIC: " + e.getMessage(), e);
        }
    }
}
