package org.hvkit.netdev;

/**
 * A network link as rtnetlink reports it.
 *
 * @param index       interface index
 * @param name        interface name
 * @param flags       {@code IFF_*} flags
 * @param operState   RFC 2863 operational state ({@code UP}, {@code DOWN}, {@code UNKNOWN} …)
 * @param masterIndex index of the master (bridge), 0 when none
 * @param mtu         MTU in bytes
 * @param mac         hardware address {@code aa:bb:cc:dd:ee:ff}, empty when the link has none
 */
public record LinkInfo(int index, String name, int flags, String operState, int masterIndex, int mtu, String mac) {

    public static final int IFF_UP = 0x1;
    public static final int IFF_LOWER_UP = 0x10000;

    /** Administratively up. */
    public boolean isUp() {
        return (flags & IFF_UP) != 0;
    }

    /** The carrier is present (for a tap: some process holds it open). */
    public boolean isLowerUp() {
        return (flags & IFF_LOWER_UP) != 0;
    }
}
