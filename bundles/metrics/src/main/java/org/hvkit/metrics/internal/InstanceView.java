package org.hvkit.metrics.internal;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.InstanceStatistics;
import org.hvkit.hypervisor.InstanceStats;

/**
 * {@link InstanceMXBean} over one instance of one hypervisor: the figures are read on the first
 * attribute read and kept for the configured cache time ({@code jmx.cache.millis}), so that a JMX
 * console reading every attribute makes one statistics call, not one per attribute.
 */
final class InstanceView implements InstanceMXBean {

    private final Hypervisor hypervisor;
    private final String name;
    /** How long one reading serves attribute reads. */
    private final long cacheNanos;
    private Reading cached;
    private long cachedAtNanos;

    InstanceView(Hypervisor hypervisor, String name, Duration cache) {
        this.hypervisor = hypervisor;
        this.name = name;
        this.cacheNanos = cache.toNanos();
    }

    /** One reading: the figures and the state to show (GONE and UNKNOWN are not SPI states). */
    private record Reading(InstanceStats stats, String state) {
    }

    private synchronized Reading reading() {
        long now = System.nanoTime();
        if (cached == null || now - cachedAtNanos >= cacheNanos) {
            cached = read();
            cachedAtNanos = now;
        }
        return cached;
    }

    private InstanceStats stats() {
        return reading().stats();
    }

    private Reading read() {
        long now = System.currentTimeMillis();
        try {
            if (hypervisor instanceof InstanceStatistics statistics) {
                Optional<InstanceStats> s = statistics.instanceStatistics(name);
                return s.map(InstanceView::of).orElseGet(() -> unknown(now, "GONE", "not running on this node"));
            }
            Optional<InstanceInfo> info = Optional.ofNullable(hypervisor.instanceInfo(name));
            return info.map(i -> of(new InstanceStats(name, hypervisor.node(), i.state(), i.pid(), now,
                    InstanceStats.UNKNOWN, Math.round(i.cpuTimeSeconds() * 1000), List.of(), InstanceStats.UNKNOWN,
                    InstanceStats.UNKNOWN, List.of(), List.of(), true,
                    "hypervisor type " + hypervisor.type() + " reports no statistics")))
                    .orElseGet(() -> unknown(now, "GONE", "not running on this node"));
        } catch (HypervisorException | RuntimeException e) {
            return unknown(now, "UNKNOWN", "statistics failed: " + e.getMessage());
        }
    }

    private static Reading of(InstanceStats s) {
        return new Reading(s, s.state().name());
    }

    /** A reading with no figures. */
    private Reading unknown(long now, String state, String reason) {
        return new Reading(new InstanceStats(name, hypervisor.node(), InstanceState.SHUTDOWN, InstanceStats.UNKNOWN,
                now, InstanceStats.UNKNOWN, InstanceStats.UNKNOWN, List.of(), InstanceStats.UNKNOWN,
                InstanceStats.UNKNOWN, List.of(), List.of(), true, reason), state);
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public String getNode() {
        return hypervisor.node();
    }

    @Override
    public String getState() {
        return reading().state();
    }

    @Override
    public long getPid() {
        return stats().pid();
    }

    @Override
    public double getCpuSeconds() {
        long ms = stats().cpuTimeMillis();
        return ms < 0 ? -1 : ms / 1000.0;
    }

    @Override
    public long getRssBytes() {
        return stats().rssBytes();
    }

    @Override
    public long getBalloonBytes() {
        return stats().balloonBytes();
    }

    @Override
    public long getDiskReadBytes() {
        return stats().diskReadBytes();
    }

    @Override
    public long getDiskWriteBytes() {
        return stats().diskWriteBytes();
    }

    @Override
    public long getNetRxBytes() {
        return stats().netRxBytes();
    }

    @Override
    public long getNetTxBytes() {
        return stats().netTxBytes();
    }

    @Override
    public long getNetDrops() {
        return stats().netDrops();
    }

    @Override
    public double getUptimeSeconds() {
        long ms = stats().uptimeMillis();
        return ms < 0 ? -1 : ms / 1000.0;
    }

    @Override
    public long getSampledAtMillis() {
        return stats().sampledAtMillis();
    }

    @Override
    public boolean isStale() {
        return stats().stale();
    }

    @Override
    public String getLastMigrationDirection() {
        InstanceStats.LastMigration m = stats().lastMigration();
        return m == null ? "" : m.incoming() ? "in" : "out";
    }

    @Override
    public String getLastMigrationResult() {
        InstanceStats.LastMigration m = stats().lastMigration();
        return m == null ? "" : m.result().name();
    }

    @Override
    public long getLastMigrationFinishedAtMillis() {
        InstanceStats.LastMigration m = stats().lastMigration();
        return m == null ? InstanceStats.UNKNOWN : m.finishedAtMillis();
    }

    @Override
    public long getLastMigrationDurationMillis() {
        InstanceStats.LastMigration m = stats().lastMigration();
        return m == null ? InstanceStats.UNKNOWN : m.durationMillis();
    }

    @Override
    public long getLastMigrationDowntimeMillis() {
        InstanceStats.LastMigration m = stats().lastMigration();
        return m == null ? InstanceStats.UNKNOWN : m.downtimeMillis();
    }

    @Override
    public long getLastMigrationTransferredBytes() {
        InstanceStats.LastMigration m = stats().lastMigration();
        return m == null ? InstanceStats.UNKNOWN : m.transferredBytes();
    }

    @Override
    public String getStaleReason() {
        return stats().staleReason();
    }
}
