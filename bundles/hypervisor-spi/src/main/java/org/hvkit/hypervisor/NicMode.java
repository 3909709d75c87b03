package org.hvkit.hypervisor;

import java.util.Locale;

/** How a NIC reaches the network ({@code nicparams.mode}). */
public enum NicMode {
    /** The tap joins the bridge named by the NIC's link. */
    BRIDGED,
    /** The host routes the NIC's IP to the tap (proxy ARP), in the routing table named by the link. */
    ROUTED;

    /** Ganeti's spelling: {@code bridged}, {@code routed}. */
    public String ganetiName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
