package org.hvkit.netdev.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Optional;

import org.hvkit.netdev.LinkStatistics;

/**
 * Reads the counters out of one {@code RTM_NEWLINK} reply body ({@code struct ifinfomsg} and
 * its attributes): {@code IFLA_STATS64} ({@code struct rtnl_link_stats64}, 64-bit counters,
 * rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped, tx_dropped …
 * in that order), else the 32-bit {@code IFLA_STATS} of old kernels. Replies are input: a body
 * shorter than its header, or counters shorter than the eight fields read, give nothing.
 */
final class LinkStats {

    static final int IFLA_IFNAME = 3;
    static final int IFLA_STATS = 7;
    static final int IFLA_STATS64 = 23;
    private static final int IFINFOMSG = 16;
    private static final int FIELDS = 8;

    private LinkStats() {
    }

    /** The counters of the link the body describes; empty when the body is short or has none. */
    static Optional<LinkStatistics> parse(ByteBuffer body) {
        ByteBuffer b = body.duplicate().order(ByteOrder.nativeOrder());
        if (b.limit() < IFINFOMSG) {
            return Optional.empty();
        }
        int index = b.getInt(4);
        Map<Integer, byte[]> attrs = NetlinkMessage.attributes(b, IFINFOMSG);
        byte[] name = attrs.get(IFLA_IFNAME);
        if (name == null) {
            return Optional.empty();
        }
        long[] c = counters(attrs.get(IFLA_STATS64), 8);
        if (c == null) {
            c = counters(attrs.get(IFLA_STATS), 4);
        }
        if (c == null) {
            return Optional.empty();
        }
        return Optional.of(new LinkStatistics(index, NetlinkMessage.string(name), c[0], c[1], c[2], c[3], c[4], c[5],
                c[6], c[7]));
    }

    /** The first eight counters of width {@code bytes} (unsigned), or null when the payload is missing or short. */
    private static long[] counters(byte[] payload, int bytes) {
        if (payload == null || payload.length < FIELDS * bytes) {
            return null;
        }
        ByteBuffer p = ByteBuffer.wrap(payload).order(ByteOrder.nativeOrder());
        long[] out = new long[FIELDS];
        for (int i = 0; i < FIELDS; i++) {
            // a u64 above Long.MAX_VALUE cannot happen in practice; clamp rather than go negative
            out[i] = bytes == 8 ? Math.max(0, p.getLong(i * 8)) : Integer.toUnsignedLong(p.getInt(i * 4));
        }
        return out;
    }
}
