package org.hvkit.hypervisor;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A network interface of an instance.
 *
 * @param mac  the guest MAC address, lower case {@code aa:bb:cc:dd:ee:ff}
 * @param ip   the guest IP address, or null (required by routed setups only)
 * @param mode bridged or routed
 * @param link the bridge (bridged) or routing table (routed); may be empty for the node default
 */
public record Nic(String mac, String ip, NicMode mode, String link) {

    private static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");

    public Nic {
        Objects.requireNonNull(mac, "mac");
        Objects.requireNonNull(mode, "mode");
        link = link == null ? "" : link;
        if (!isValidMac(mac)) {
            throw new IllegalArgumentException("'" + mac + "' is not a valid MAC address (expected six colon-separated"
                    + " lower-case hex pairs, e.g. aa:00:00:12:34:56)");
        }
    }

    /** Whether {@code mac} is a normalized (lower case, colon separated) MAC address. */
    public static boolean isValidMac(String mac) {
        return mac != null && MAC.matcher(mac).matches();
    }
}
