package org.hvkit.netdev;

import java.net.InetAddress;
import java.util.Objects;

/**
 * A device route {@code <destination>/<prefixLength> dev <device> table <table> proto static},
 * as Ganeti's routed NIC setup installs it.
 *
 * @param destination  IPv4 or IPv6 destination
 * @param prefixLength 0..32 (IPv4) or 0..128 (IPv6)
 * @param device       output interface
 * @param table        routing table id (254 = main)
 */
public record Route(InetAddress destination, int prefixLength, String device, int table) {

    public static final int MAIN_TABLE = 254;

    public Route {
        Objects.requireNonNull(destination, "destination");
        Objects.requireNonNull(device, "device");
        int max = destination.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range 0.." + max);
        }
        if (table < 1) {
            throw new IllegalArgumentException("routing table must be 1 or more, got " + table);
        }
    }

    /** A host route ({@code /32} or {@code /128}) to {@code destination}. */
    public static Route host(InetAddress destination, String device, int table) {
        return new Route(destination, destination.getAddress().length * 8, device, table);
    }
}
