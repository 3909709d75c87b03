package org.hvkit.netdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import org.hvkit.netdev.internal.RtNetlink;
import org.hvkit.netdev.internal.TunTapDevices;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NetlinkTest {

    private final Netlink netlink = new RtNetlink();
    private final TapDevices taps = new TunTapDevices();

    @BeforeEach
    void privateNetns() {
        PrivateNetns.require();
    }

    @Test
    void bridgedTap() throws Exception {
        netlink.createBridge("hvbr0");
        try (Tap tap = taps.open("hvtap1", true)) {
            netlink.setUp("hvbr0");
            netlink.setMtu("hvtap1", 1400);
            netlink.setMac("hvtap1", "fe:00:00:00:00:01");
            netlink.setMaster("hvtap1", "hvbr0");
            netlink.setUp("hvtap1");

            LinkInfo br = netlink.link("hvbr0");
            LinkInfo info = netlink.link("hvtap1");
            assertEquals(br.index(), info.masterIndex());
            assertTrue(info.isUp());
            assertTrue(info.isLowerUp(), "we hold the tap open");
            assertEquals(1400, info.mtu());
            assertEquals("fe:00:00:00:00:01", info.mac());

            String json = PrivateNetns.sh("ip", "-j", "link", "show", "hvtap1");
            assertTrue(json.contains("\"master\":\"hvbr0\""), json);
            assertTrue(json.contains("\"UP\""), json);
            assertTrue(json.contains("\"mtu\":1400"), json);

            netlink.setNoMaster("hvtap1");
            assertEquals(0, netlink.link("hvtap1").masterIndex());
            netlink.setDown("hvtap1");
            assertFalse(netlink.link("hvtap1").isUp());
        } finally {
            netlink.deleteLink("hvbr0");
        }
        assertTrue(netlink.findLink("hvbr0").isEmpty());
        assertTrue(netlink.findLink("hvtap1").isEmpty(), "closing the tap removed it");
    }

    @Test
    void routedTap() throws Exception {
        try (Tap tap = taps.open("hvtap2", true)) {
            netlink.setUp("hvtap2");
            netlink.setProxyArp("hvtap2", true);
            netlink.setForwarding(false, "hvtap2", true);
            Route v4 = Route.host(InetAddress.getByName("192.0.2.10"), "hvtap2", 100);
            netlink.replaceRoute(v4);
            netlink.replaceRoute(v4); // replace is idempotent
            netlink.addRule(false, "hvtap2", 100);
            Route v6 = Route.host(InetAddress.getByName("2001:db8::10"), "hvtap2", 100);
            netlink.setProxyNdp("hvtap2", true);
            netlink.replaceRoute(v6);
            netlink.addRule(true, "hvtap2", 100);

            String routes = PrivateNetns.sh("ip", "-j", "route", "show", "table", "100");
            assertTrue(routes.contains("\"dst\":\"192.0.2.10\"") && routes.contains("\"dev\":\"hvtap2\"")
                    && routes.contains("\"protocol\":\"static\"") && routes.contains("\"scope\":\"link\""), routes);
            String routes6 = PrivateNetns.sh("ip", "-j", "-6", "route", "show", "table", "100");
            assertTrue(routes6.contains("\"dst\":\"2001:db8::10\""), routes6);
            String rules = PrivateNetns.sh("ip", "-j", "rule");
            assertTrue(rules.contains("\"iif\":\"hvtap2\"") && rules.contains("\"table\":\"100\""), rules);
            assertTrue(PrivateNetns.sh("ip", "-j", "-6", "rule").contains("\"iif\":\"hvtap2\""));
            assertEquals("1", Files.readString(Path.of("/proc/sys/net/ipv4/conf/hvtap2/proxy_arp")).trim());
            assertEquals("1", Files.readString(Path.of("/proc/sys/net/ipv6/conf/hvtap2/proxy_ndp")).trim());
            assertEquals("1", Files.readString(Path.of("/proc/sys/net/ipv4/conf/hvtap2/forwarding")).trim());

            netlink.addRule(false, "hvtap2", 100);
            assertEquals(1, PrivateNetns.sh("ip", "-j", "rule").split("\"iif\":\"hvtap2\"", -1).length - 1,
                    "adding the rule again leaves exactly one");

            netlink.deleteRule(false, "hvtap2", 100);
            netlink.deleteRule(true, "hvtap2", 100);
            netlink.deleteRoute(v4);
            netlink.deleteRoute(v6);
            assertFalse(PrivateNetns.sh("ip", "-j", "route", "show", "table", "100").contains("192.0.2.10"));
            assertFalse(PrivateNetns.sh("ip", "-j", "rule").contains("hvtap2"));
        }
    }

    @Test
    void kernelErrorsCarryErrnoAndName() throws Exception {
        NativeException e = assertThrows(NativeException.class, () -> netlink.link("nope0"));
        assertEquals("get link nope0: No such device (errno 19)", e.getMessage());
        assertEquals(19, e.errno());
        assertTrue(netlink.findLink("nope0").isEmpty());
        e = assertThrows(NativeException.class, () -> netlink.setMaster("nope0", "lo"));
        assertEquals(19, e.errno());
        netlink.createBridge("hvbr1");
        try {
            e = assertThrows(NativeException.class, () -> netlink.createBridge("hvbr1"));
            assertEquals("add bridge hvbr1: File exists (errno 17)", e.getMessage());
        } finally {
            netlink.deleteLink("hvbr1");
        }
        e = assertThrows(NativeException.class, () -> netlink.setProxyArp("nope0", true));
        assertTrue(e.getMessage().endsWith("no interface nope0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> netlink.setMac("lo", "zz:00:00:00:00:00"));
    }

    @Test
    void linkCountersGrowWithTraffic() throws Exception {
        netlink.setUp("lo");
        LinkStatistics before = netlink.linkStatistics("lo").orElseThrow();
        assertTrue(netlink.allLinkStatistics().stream().anyMatch(s -> s.name().equals("lo")), "lo in the dump");
        byte[] payload = new byte[1000];
        try (java.net.DatagramSocket udp = new java.net.DatagramSocket()) {
            for (int i = 0; i < 5; i++) {
                udp.send(new java.net.DatagramPacket(payload, payload.length, InetAddress.getLoopbackAddress(), 9));
            }
        }
        LinkStatistics after = netlink.allLinkStatistics().stream().filter(s -> s.name().equals("lo")).findFirst()
                .orElseThrow();
        assertEquals(before.index(), after.index());
        assertTrue(after.txPackets() >= before.txPackets() + 5, before + " -> " + after);
        assertTrue(after.txBytes() >= before.txBytes() + 5 * 1000, before + " -> " + after);
        assertTrue(after.rxBytes() >= before.rxBytes() + 5 * 1000, "loopback receives what it sends");
        assertTrue(netlink.linkStatistics("hvnone0").isEmpty());
    }
}
