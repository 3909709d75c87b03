package org.hvkit.shell.internal;

import java.util.Locale;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Option;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;

/** Base of hv:nic-add and hv:nic-modify: a NIC given by its MAC and its host side's options. */
abstract class NicAction extends InstanceAction {

    @Argument(index = 1, name = "mac", required = true, description = "The NIC's MAC address (aa:bb:cc:dd:ee:ff)")
    String mac;

    @Option(name = "--mode", description = "bridged (default) or routed")
    String mode = "bridged";

    @Option(name = "--link", description = "The bridge (bridged), or the routing table (routed; empty: main)")
    String link = "";

    @Option(name = "--ip", description = "The guest's IP address (required for routed)")
    String ip;

    /** The NIC the options describe. */
    Nic nic() throws HypervisorException {
        return nic(mac, mode, link, ip);
    }

    /** What a NIC is connected to, for the command's last line. */
    static String connection(Nic nic) {
        return nic.mode().ganetiName() + (nic.link().isEmpty() ? "" : " " + nic.link())
                + (nic.ip() == null ? "" : ", ip " + nic.ip());
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
