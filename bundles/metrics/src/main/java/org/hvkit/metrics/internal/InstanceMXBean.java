package org.hvkit.metrics.internal;

/**
 * The management interface of {@code org.hvkit:type=Instance,node="<node>",name="<name>"}: one
 * running instance's statistics, read on demand (cached for {@code jmx.cache.millis}). A figure
 * that is not known reads -1; {@link #isStale} tells that some were not read in time.
 */
public interface InstanceMXBean {

    String getName();

    String getNode();

    /** RUNNING, PAUSED, SHUTDOWN, UNRESPONSIVE, or GONE once it no longer runs on this node. */
    String getState();

    long getPid();

    double getCpuSeconds();

    long getRssBytes();

    long getBalloonBytes();

    long getDiskReadBytes();

    long getDiskWriteBytes();

    long getNetRxBytes();

    long getNetTxBytes();

    long getNetDrops();

    double getUptimeSeconds();

    /** When the figures were read, milliseconds since the epoch. */
    long getSampledAtMillis();

    boolean isStale();

    /**
     * The last migration of the instance's QEMU process on this node: {@code in} (it arrived
     * here), {@code out} (this node sent it, and it failed or was cancelled), or empty when none.
     */
    String getLastMigrationDirection();

    /** COMPLETED, FAILED or CANCELLED; empty when there was no migration. */
    String getLastMigrationResult();

    /** When the last migration ended, milliseconds since the epoch; -1 when none. */
    long getLastMigrationFinishedAtMillis();

    /** How long the last migration took as this node measured it, in milliseconds; -1 when unknown or none. */
    long getLastMigrationDurationMillis();

    /** The guest's pause for the last migration's switch-over, in milliseconds; -1 when unknown or none. */
    long getLastMigrationDowntimeMillis();

    /** Bytes of guest RAM the last migration's source sent; -1 when unknown or none. */
    long getLastMigrationTransferredBytes();

    String getStaleReason();
}
