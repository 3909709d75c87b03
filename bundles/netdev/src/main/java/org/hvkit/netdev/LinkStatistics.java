package org.hvkit.netdev;

import java.io.Serializable;
import java.util.Objects;

/**
 * The kernel's traffic counters of one network link ({@code struct rtnl_link_stats64}, the
 * {@code IFLA_STATS64} attribute of {@code RTM_GETLINK}), from the host's point of view: for a
 * tap, {@code rx} is what the guest sent and {@code tx} what the guest was given. Counters
 * start at 0 when the link is created and only grow (64 bits do not wrap in practice). Since 1.3.
 *
 * @param index     interface index
 * @param name      interface name
 * @param rxPackets packets received by the host on this link
 * @param txPackets packets sent by the host on this link
 * @param rxBytes   bytes received by the host on this link
 * @param txBytes   bytes sent by the host on this link
 * @param rxErrors  bad packets received
 * @param txErrors  packets that could not be sent
 * @param rxDropped packets received but dropped (no buffer, filtered …)
 * @param txDropped packets dropped on the way out (for a tap: the guest did not read its queue in time)
 */
public record LinkStatistics(int index, String name, long rxPackets, long txPackets, long rxBytes, long txBytes,
                             long rxErrors, long txErrors, long rxDropped, long txDropped) implements Serializable {

    private static final long serialVersionUID = 1L;

    public LinkStatistics {
        Objects.requireNonNull(name, "name");
    }
}
