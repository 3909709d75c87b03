package org.hvkit.netdev.internal;

import java.io.IOException;
import java.net.Inet6Address;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.hvkit.netdev.LinkInfo;
import org.hvkit.netdev.LinkStatistics;
import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.Netlink;
import org.hvkit.netdev.Route;
import org.osgi.service.component.annotations.Component;

/** {@link Netlink} over rtnetlink; every call uses its own short-lived socket (thread safe). */
@Component(service = Netlink.class)
public final class RtNetlink implements Netlink {

    private static final int RTM_NEWLINK = 16;
    private static final int RTM_DELLINK = 17;
    private static final int RTM_GETLINK = 18;
    private static final int RTM_NEWROUTE = 24;
    private static final int RTM_DELROUTE = 25;
    private static final int RTM_NEWRULE = 32;
    private static final int RTM_DELRULE = 33;

    private static final int IFLA_ADDRESS = 1;
    private static final int IFLA_IFNAME = 3;
    private static final int IFLA_MTU = 4;
    private static final int IFLA_MASTER = 10;
    private static final int IFLA_OPERSTATE = 16;
    private static final int IFLA_LINKINFO = 18;
    private static final int IFLA_INFO_KIND = 1;

    private static final int RTA_DST = 1;
    private static final int RTA_OIF = 4;
    private static final int RTA_TABLE = 15;
    private static final int RTPROT_STATIC = 4;
    private static final int RT_SCOPE_LINK = 253;
    private static final int RT_SCOPE_NOWHERE = 255;
    private static final int RTN_UNICAST = 1;

    private static final int FRA_IIFNAME = 3;
    private static final int FRA_TABLE = 15;
    private static final int FR_ACT_TO_TBL = 1;

    private static final int ENODEV = 19;
    private static final int MAX_DUPLICATE_RULES = 1000;
    private static final String[] OPER_STATES = {"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING",
        "DORMANT", "UP"};

    private final Path procSys;

    public RtNetlink() {
        this(Path.of("/proc/sys"));
    }

    RtNetlink(Path procSys) {
        this.procSys = procSys;
    }

    @Override
    public Optional<LinkInfo> findLink(String name) throws NativeException {
        try {
            return Optional.of(link(name));
        } catch (NativeException e) {
            if (e.errno() == ENODEV) {
                return Optional.empty();
            }
            throw e;
        }
    }

    @Override
    public LinkInfo link(String name) throws NativeException {
        checkName(name);
        byte[] body = ifinfo(0, 0, 0).attrString(IFLA_IFNAME, name).bytes();
        List<ByteBuffer> replies = call(RTM_GETLINK, 0, body, "get link " + name);
        if (replies.isEmpty()) {
            throw new NativeException("get link " + name + ": no reply from the kernel", 0);
        }
        return parseLink(replies.get(0));
    }

    @Override
    public Optional<LinkStatistics> linkStatistics(String name) throws NativeException {
        checkName(name);
        byte[] body = ifinfo(0, 0, 0).attrString(IFLA_IFNAME, name).bytes();
        List<ByteBuffer> replies;
        try {
            replies = call(RTM_GETLINK, 0, body, "get statistics of link " + name);
        } catch (NativeException e) {
            if (e.errno() == ENODEV) {
                return Optional.empty();
            }
            throw e;
        }
        return replies.isEmpty() ? Optional.empty() : LinkStats.parse(replies.get(0));
    }

    @Override
    public List<LinkStatistics> allLinkStatistics() throws NativeException {
        List<LinkStatistics> out = new ArrayList<>();
        for (ByteBuffer reply : call(RTM_GETLINK, NetlinkSocket.NLM_F_DUMP, ifinfo(0, 0, 0).bytes(),
                "dump link statistics")) {
            LinkStats.parse(reply).ifPresent(out::add);
        }
        return out;
    }

    @Override
    public void setUp(String name) throws NativeException {
        changeFlags(name, LinkInfo.IFF_UP, "set " + name + " up");
    }

    @Override
    public void setDown(String name) throws NativeException {
        changeFlags(name, 0, "set " + name + " down");
    }

    private void changeFlags(String name, int flags, String what) throws NativeException {
        checkName(name);
        call(RTM_NEWLINK, 0, ifinfo(0, flags, LinkInfo.IFF_UP).attrString(IFLA_IFNAME, name).bytes(), what);
    }

    @Override
    public void setMaster(String name, String master) throws NativeException {
        checkName(name);
        int masterIndex = link(master).index();
        call(RTM_NEWLINK, 0, ifinfo(0, 0, 0).attrString(IFLA_IFNAME, name).attrU32(IFLA_MASTER, masterIndex).bytes(),
                "set " + name + " master " + master);
    }

    @Override
    public void setNoMaster(String name) throws NativeException {
        checkName(name);
        call(RTM_NEWLINK, 0, ifinfo(0, 0, 0).attrString(IFLA_IFNAME, name).attrU32(IFLA_MASTER, 0).bytes(),
                "set " + name + " nomaster");
    }

    @Override
    public void setMtu(String name, int mtu) throws NativeException {
        checkName(name);
        if (mtu < 68) {
            throw new IllegalArgumentException("MTU of " + name + " must be at least 68, got " + mtu);
        }
        call(RTM_NEWLINK, 0, ifinfo(0, 0, 0).attrString(IFLA_IFNAME, name).attrU32(IFLA_MTU, mtu).bytes(),
                "set " + name + " mtu " + mtu);
    }

    @Override
    public void setMac(String name, String mac) throws NativeException {
        checkName(name);
        call(RTM_NEWLINK, 0, ifinfo(0, 0, 0).attrString(IFLA_IFNAME, name).attr(IFLA_ADDRESS, parseMac(mac)).bytes(),
                "set " + name + " address " + mac);
    }

    @Override
    public void createBridge(String name) throws NativeException {
        checkName(name);
        byte[] body = ifinfo(0, 0, 0).attrString(IFLA_IFNAME, name)
                .nestStart(IFLA_LINKINFO).attrString(IFLA_INFO_KIND, "bridge").nestEnd().bytes();
        call(RTM_NEWLINK, NetlinkSocket.NLM_F_CREATE | NetlinkSocket.NLM_F_EXCL, body, "add bridge " + name);
    }

    @Override
    public void deleteLink(String name) throws NativeException {
        checkName(name);
        call(RTM_DELLINK, 0, ifinfo(0, 0, 0).attrString(IFLA_IFNAME, name).bytes(), "delete link " + name);
    }

    @Override
    public void replaceRoute(Route route) throws NativeException {
        byte[] body = route(route, RT_SCOPE_LINK, RTPROT_STATIC);
        call(RTM_NEWROUTE, NetlinkSocket.NLM_F_CREATE | NetlinkSocket.NLM_F_REPLACE, body, "replace route " + describe(route));
    }

    @Override
    public void deleteRoute(Route route) throws NativeException {
        call(RTM_DELROUTE, 0, route(route, RT_SCOPE_NOWHERE, 0), "delete route " + describe(route));
    }

    private byte[] route(Route route, int scope, int protocol) throws NativeException {
        int oif = link(route.device()).index();
        boolean v6 = route.destination() instanceof Inet6Address;
        return new NetlinkMessage()
                .u8(v6 ? LibC.AF_INET6 : LibC.AF_INET).u8(route.prefixLength()).u8(0).u8(0)
                .u8(route.table() < 256 ? route.table() : 0).u8(protocol).u8(scope).u8(RTN_UNICAST).u32(0)
                .attr(RTA_DST, route.destination().getAddress())
                .attrU32(RTA_OIF, oif)
                .attrU32(RTA_TABLE, route.table())
                .bytes();
    }

    @Override
    public void addRule(boolean ipv6, String iif, int table) throws NativeException {
        byte[] body = rule(ipv6, iif, table);
        // drop earlier copies (e.g. left by a crashed start) so that exactly one remains
        for (int i = 0; i < MAX_DUPLICATE_RULES; i++) {
            try {
                call(RTM_DELRULE, 0, body, "delete rule iif " + iif + " table " + table);
            } catch (NativeException e) {
                if (e.errno() != LibC.ENOENT) {
                    throw e;
                }
                break;
            }
        }
        call(RTM_NEWRULE, NetlinkSocket.NLM_F_CREATE, body, "add rule iif " + iif + " table " + table);
    }

    @Override
    public void deleteRule(boolean ipv6, String iif, int table) throws NativeException {
        call(RTM_DELRULE, 0, rule(ipv6, iif, table), "delete rule iif " + iif + " table " + table);
    }

    private static byte[] rule(boolean ipv6, String iif, int table) {
        checkName(iif);
        return new NetlinkMessage()
                .u8(ipv6 ? LibC.AF_INET6 : LibC.AF_INET).u8(0).u8(0).u8(0)
                .u8(table < 256 ? table : 0).u8(0).u8(0).u8(FR_ACT_TO_TBL).u32(0)
                .attrString(FRA_IIFNAME, iif)
                .attrU32(FRA_TABLE, table)
                .bytes();
    }

    @Override
    public void setProxyArp(String name, boolean on) throws NativeException {
        sysctl("net/ipv4/conf", name, "proxy_arp", on);
    }

    @Override
    public void setProxyNdp(String name, boolean on) throws NativeException {
        sysctl("net/ipv6/conf", name, "proxy_ndp", on);
    }

    @Override
    public void setForwarding(boolean ipv6, String name, boolean on) throws NativeException {
        sysctl(ipv6 ? "net/ipv6/conf" : "net/ipv4/conf", name, "forwarding", on);
    }

    private void sysctl(String dir, String name, String key, boolean on) throws NativeException {
        checkName(name);
        Path file = procSys.resolve(dir).resolve(name).resolve(key);
        try {
            Files.writeString(file, on ? "1\n" : "0\n", StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new NativeException("Cannot set " + file + ": no interface " + name, LibC.ENOENT);
        } catch (IOException e) {
            throw new NativeException("Cannot set " + file + ": " + e.getMessage(), 0);
        }
    }

    private static NetlinkMessage ifinfo(int index, int flags, int change) {
        return new NetlinkMessage().u8(0).u8(0).u16(0).u32(index).u32(flags).u32(change);
    }

    private static List<ByteBuffer> call(int type, int flags, byte[] body, String what) throws NativeException {
        try (NetlinkSocket socket = new NetlinkSocket()) {
            return socket.request(type, flags, body, what);
        }
    }

    private static LinkInfo parseLink(ByteBuffer body) {
        int index = body.getInt(4);
        int flags = body.getInt(8);
        Map<Integer, byte[]> attrs = NetlinkMessage.attributes(body, 16);
        String name = attrs.containsKey(IFLA_IFNAME) ? NetlinkMessage.string(attrs.get(IFLA_IFNAME)) : "";
        int mtu = attrs.containsKey(IFLA_MTU) ? NetlinkMessage.u32(attrs.get(IFLA_MTU)) : 0;
        int master = attrs.containsKey(IFLA_MASTER) ? NetlinkMessage.u32(attrs.get(IFLA_MASTER)) : 0;
        int oper = attrs.containsKey(IFLA_OPERSTATE) ? attrs.get(IFLA_OPERSTATE)[0] & 0xff : 0;
        String mac = attrs.containsKey(IFLA_ADDRESS) ? formatMac(attrs.get(IFLA_ADDRESS)) : "";
        return new LinkInfo(index, name, flags, oper < OPER_STATES.length ? OPER_STATES[oper] : "UNKNOWN",
                master, mtu, mac);
    }

    private static String formatMac(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < b.length; i++) {
            s.append(i == 0 ? "" : ":").append(String.format("%02x", b[i] & 0xff));
        }
        return s.toString();
    }

    static byte[] parseMac(String mac) {
        String[] parts = mac == null ? new String[0] : mac.split(":");
        if (parts.length != 6) {
            throw new IllegalArgumentException("'" + mac + "' is not a MAC address (expected aa:bb:cc:dd:ee:ff)");
        }
        byte[] out = new byte[6];
        for (int i = 0; i < 6; i++) {
            if (!parts[i].matches("[0-9a-fA-F]{2}")) {
                throw new IllegalArgumentException("'" + mac + "' is not a MAC address (expected aa:bb:cc:dd:ee:ff)");
            }
            out[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return out;
    }

    private static String describe(Route r) {
        return r.destination().getHostAddress() + "/" + r.prefixLength() + " dev " + r.device() + " table " + r.table();
    }

    private static void checkName(String name) {
        TunTapDevices.validName(name);
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("an interface name is required");
        }
    }
}
