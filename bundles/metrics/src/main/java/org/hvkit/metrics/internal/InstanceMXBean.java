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

    String getStaleReason();
}
