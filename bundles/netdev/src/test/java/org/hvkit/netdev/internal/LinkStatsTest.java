package org.hvkit.netdev.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import org.hvkit.netdev.LinkStatistics;
import org.junit.jupiter.api.Test;

/** Parsing of link counters from rtnetlink replies, including replies that are short or lie. */
class LinkStatsTest {

    private static byte[] u64s(long... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.nativeOrder());
        for (long x : v) {
            b.putLong(x);
        }
        return b.array();
    }

    private static byte[] u32s(int... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.nativeOrder());
        for (int x : v) {
            b.putInt(x);
        }
        return b.array();
    }

    private static NetlinkMessage header(int index) {
        return new NetlinkMessage().u8(0).u8(0).u16(1).u32(index).u32(0).u32(0);
    }

    private static ByteBuffer body(NetlinkMessage m) {
        return ByteBuffer.wrap(m.bytes()).order(ByteOrder.nativeOrder());
    }

    @Test
    void stats64InTheKernelsFieldOrder() {
        // rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped, tx_dropped, multicast …
        long[] k = {10, 20, 1000, 2000, 1, 2, 3, 4, 99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        LinkStatistics s = LinkStats.parse(body(header(7).attrString(LinkStats.IFLA_IFNAME, "tap0")
                .attr(LinkStats.IFLA_STATS, u32s(1, 1, 1, 1, 1, 1, 1, 1, 1, 1))
                .attr(LinkStats.IFLA_STATS64, u64s(k)))).orElseThrow();
        assertEquals(new LinkStatistics(7, "tap0", 10, 20, 1000, 2000, 1, 2, 3, 4), s);
    }

    @Test
    void bigCountersAreNotCutTo32Bits() {
        long big = 5L << 32;
        LinkStatistics s = LinkStats.parse(body(header(1).attrString(LinkStats.IFLA_IFNAME, "t")
                .attr(LinkStats.IFLA_STATS64, u64s(big, 0, big + 1, 0, 0, 0, 0, 0)))).orElseThrow();
        assertEquals(big, s.rxPackets());
        assertEquals(big + 1, s.rxBytes());
    }

    @Test
    void oldKernelsThirtyTwoBitCountersAreUnsigned() {
        LinkStatistics s = LinkStats.parse(body(header(2).attrString(LinkStats.IFLA_IFNAME, "old")
                .attr(LinkStats.IFLA_STATS, u32s(-1, 2, 3, 4, 5, 6, 7, 8)))).orElseThrow();
        assertEquals(0xffffffffL, s.rxPackets());
        assertEquals(8, s.txDropped());
    }

    @Test
    void shortOrMissingCountersGiveNothing() {
        assertTrue(LinkStats.parse(body(header(3).attrString(LinkStats.IFLA_IFNAME, "x")
                .attr(LinkStats.IFLA_STATS64, u64s(1, 2, 3)))).isEmpty(), "truncated stats64, no stats32");
        assertTrue(LinkStats.parse(body(header(3).attrString(LinkStats.IFLA_IFNAME, "x"))).isEmpty(), "none");
        assertTrue(LinkStats.parse(body(header(3).attr(LinkStats.IFLA_STATS64, u64s(new long[8])))).isEmpty(),
                "no name");
        assertTrue(LinkStats.parse(ByteBuffer.allocate(10)).isEmpty(), "shorter than ifinfomsg");
        // an attribute whose length runs past the end of the message stops the parse
        byte[] b = header(4).attrString(LinkStats.IFLA_IFNAME, "y").attr(LinkStats.IFLA_STATS64, u64s(new long[8]))
                .bytes();
        assertTrue(LinkStats.parse(ByteBuffer.wrap(Arrays.copyOf(b, b.length - 9)).order(ByteOrder.nativeOrder()))
                .isEmpty(), "cut mid-attribute");
    }

    @Test
    void aTruncatedStats64FallsBackToTheThirtyTwoBitCounters() {
        LinkStatistics s = LinkStats.parse(body(header(5).attrString(LinkStats.IFLA_IFNAME, "z")
                .attr(LinkStats.IFLA_STATS64, u64s(1, 2)).attr(LinkStats.IFLA_STATS, u32s(9, 8, 7, 6, 5, 4, 3, 2))))
                .orElseThrow();
        assertEquals(9, s.rxPackets());
    }
}
