package org.hvkit.kvm.internal.network;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.Netlink;
import org.hvkit.netdev.Route;

/**
 * What the shipped ifup script does, natively through rtnetlink (no shell, no ip): bridged —
 * the bridge's MTU, a tap MAC the bridge never adopts (Ganeti #257, #273), enslave, up; routed
 * — up, a host route in the NIC's table (or main), one rule {@code iif <tap> table <link>},
 * proxy ARP/NDP and forwarding.
 */
public final class NativeNicConfigurator implements NicConfigurator {

    /** The bridge takes the lowest port MAC as its own; taps must never be that (Ganeti #273). */
    static final String TAP_MAC = "fe:ff:ff:ff:ff:ff";

    private final Netlink netlink;

    public NativeNicConfigurator(Netlink netlink) {
        this.netlink = netlink;
    }

    @Override
    public void configure(Instance instance, int seq, Nic nic, String tap) throws HypervisorException {
        try {
            if (nic.mode() == NicMode.BRIDGED) {
                if (nic.link().isEmpty()) {
                    throw new HypervisorException("Failed to configure interface " + tap + ": Missing bridged nic link");
                }
                int mtu = netlink.link(nic.link()).mtu();
                netlink.setMtu(tap, mtu);
                netlink.setMac(tap, TAP_MAC);
                netlink.setMaster(tap, nic.link());
                netlink.setUp(tap);
            } else {
                if (nic.ip() == null || nic.ip().isEmpty()) {
                    throw new HypervisorException("Failed to configure interface " + tap
                            + ": Routed nic mode requires an ip address");
                }
                InetAddress ip = InetAddress.getByName(nic.ip());
                boolean v6 = ip instanceof Inet6Address;
                netlink.setUp(tap);
                int table = Route.MAIN_TABLE;
                if (!nic.link().isEmpty()) {
                    table = Integer.parseInt(nic.link());
                    netlink.addRule(v6, tap, table);
                }
                netlink.replaceRoute(Route.host(ip, tap, table));
                if (v6) {
                    netlink.setProxyNdp(tap, true);
                } else {
                    netlink.setProxyArp(tap, true);
                }
                netlink.setForwarding(v6, tap, true);
            }
        } catch (NativeException e) {
            throw new HypervisorException("Failed to configure interface " + tap + ": " + e.getMessage(), e);
        } catch (UnknownHostException | NumberFormatException e) {
            throw new HypervisorException("Failed to configure interface " + tap + ": bad ip or routing table in " + nic, e);
        }
    }

    /** Bridged: off the bridge, down. Routed: the host route, the rule, proxy ARP/NDP and forwarding off. */
    @Override
    public void unconfigure(Instance instance, int seq, Nic nic, String tap) throws HypervisorException {
        try {
            if (nic.mode() == NicMode.BRIDGED) {
                netlink.setNoMaster(tap);
                netlink.setDown(tap);
                return;
            }
            InetAddress ip = InetAddress.getByName(nic.ip());
            boolean v6 = ip instanceof Inet6Address;
            int table = Route.MAIN_TABLE;
            if (!nic.link().isEmpty()) {
                table = Integer.parseInt(nic.link());
                netlink.deleteRule(v6, tap, table);
            }
            netlink.deleteRoute(Route.host(ip, tap, table));
            if (v6) {
                netlink.setProxyNdp(tap, false);
            } else {
                netlink.setProxyArp(tap, false);
            }
            netlink.setForwarding(v6, tap, false);
            netlink.setDown(tap);
        } catch (NativeException e) {
            throw new HypervisorException("Failed to unconfigure interface " + tap + ": " + e.getMessage(), e);
        } catch (UnknownHostException | NumberFormatException | NullPointerException e) {
            throw new HypervisorException("Failed to unconfigure interface " + tap + ": bad ip or routing table in "
                    + nic, e);
        }
    }
}
