package org.hvkit.hypervisor;

import java.io.Serializable;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A network interface of an instance.
 *
 * @param mac  the guest MAC address, lower case {@code aa:bb:cc:dd:ee:ff}; a unicast address (the
 *             lowest bit of the first octet clear; enforced since 1.2)
 * @param ip   the guest IP address, or null (required by routed setups only)
 * @param mode bridged or routed
 * @param link the bridge (bridged) or routing table (routed); may be empty for the node default
 */
public record Nic(String mac, String ip, NicMode mode, String link) implements Serializable {

    private static final long serialVersionUID = 1L;

    private static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");

    /**
     * Checks the MAC address: normalized and, since 1.2, unicast.
     *
     * @throws IllegalArgumentException naming the MAC address and what is wrong with it
     */
    public Nic {
        Objects.requireNonNull(mac, "mac");
        Objects.requireNonNull(mode, "mode");
        link = link == null ? "" : link;
        if (!isValidMac(mac)) {
            throw new IllegalArgumentException(Texts.quote(mac) + " is not a valid MAC address (expected six"
                    + " colon-separated lower-case hex pairs, e.g. aa:00:00:12:34:56)");
        }
        if (!isUnicastMac(mac)) {
            throw new IllegalArgumentException(multicastMessage(mac));
        }
    }

    /** Whether {@code mac} is a normalized (lower case, colon separated) MAC address. */
    public static boolean isValidMac(String mac) {
        return mac != null && MAC.matcher(mac).matches();
    }

    /**
     * Whether the {@linkplain #isValidMac valid} MAC address {@code mac} is a unicast address: the
     * lowest bit of its first octet (the I/G bit) is clear. {@code ff:ff:ff:ff:ff:ff} and
     * {@code 01:00:5e:…} are multicast. Since 1.2.
     *
     * @throws IllegalArgumentException when {@code mac} is not {@linkplain #isValidMac valid}
     */
    public static boolean isUnicastMac(String mac) {
        if (!isValidMac(mac)) {
            throw new IllegalArgumentException(Texts.quote(mac) + " is not a valid MAC address");
        }
        return (Integer.parseInt(mac.substring(0, 2), 16) & 1) == 0;
    }

    /** Why a NIC cannot have the multicast address {@code mac}. */
    static String multicastMessage(String mac) {
        return mac + " is a multicast address; a NIC needs a unicast MAC (lowest bit of the first octet clear)";
    }
}
