package org.hvkit.netdev;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * rtnetlink operations (the subset Ganeti's NIC setup needs) and the per-interface sysctls it
 * writes. Kernel errors surface as {@link NativeException}s with the errno and a message that
 * names the operation and the interface.
 */
@ProviderType
public interface Netlink {

    /** The link named {@code name}, empty when there is none. */
    Optional<LinkInfo> findLink(String name) throws NativeException;

    /** The link named {@code name}; fails with ENODEV when there is none. */
    LinkInfo link(String name) throws NativeException;

    /**
     * The traffic counters of the link named {@code name} ({@code RTM_GETLINK}, {@code IFLA_STATS64});
     * empty when there is no such link. Since 1.3.
     */
    Optional<LinkStatistics> linkStatistics(String name) throws NativeException;

    /**
     * The traffic counters of every link of this network namespace in one kernel dump (one
     * netlink round trip however many links): the cheap way to read the counters of many taps.
     * Links whose reply carries no counters are left out. Since 1.3.
     */
    List<LinkStatistics> allLinkStatistics() throws NativeException;

    void setUp(String name) throws NativeException;

    void setDown(String name) throws NativeException;

    /** Enslaves {@code name} to the bridge {@code master}. */
    void setMaster(String name, String master) throws NativeException;

    /** Releases {@code name} from its master. */
    void setNoMaster(String name) throws NativeException;

    void setMtu(String name, int mtu) throws NativeException;

    /** Sets the hardware address ({@code aa:bb:cc:dd:ee:ff}). */
    void setMac(String name, String mac) throws NativeException;

    /** Creates a bridge (fails with EEXIST when the name is taken). */
    void createBridge(String name) throws NativeException;

    void deleteLink(String name) throws NativeException;

    /** {@code ip route replace <dst>/<len> dev <dev> table <t> proto static}. */
    void replaceRoute(Route route) throws NativeException;

    /** {@code ip route del <dst>/<len> dev <dev> table <t>}. */
    void deleteRoute(Route route) throws NativeException;

    /**
     * Ensures exactly one rule {@code iif <iif> lookup <t>} exists ({@code ip [-6] rule add}
     * would add a duplicate on every call, since the kernel gives each a new priority).
     */
    void addRule(boolean ipv6, String iif, int table) throws NativeException;

    /** {@code ip [-6] rule del iif <iif> table <t>}. */
    void deleteRule(boolean ipv6, String iif, int table) throws NativeException;

    /** {@code /proc/sys/net/ipv4/conf/<if>/proxy_arp}. */
    void setProxyArp(String name, boolean on) throws NativeException;

    /** {@code /proc/sys/net/ipv6/conf/<if>/proxy_ndp}. */
    void setProxyNdp(String name, boolean on) throws NativeException;

    /** {@code /proc/sys/net/ipv{4,6}/conf/<if>/forwarding}. */
    void setForwarding(boolean ipv6, String name, boolean on) throws NativeException;
}
