package org.hvkit.hypervisor;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * What one live instance uses, as {@link InstanceStatistics} reads it in one pass. Immutable
 * and serializable (no {@code Optional}s): a figure that is not known is {@link #UNKNOWN}
 * (-1), never 0, which is a real value. Counters (CPU time, bytes, operations, packets) only
 * grow for the life of the hypervisor process; a new process (restart, reboot, migration)
 * starts them again. Since 1.3.
 *
 * @param name             the instance name
 * @param node             the node it runs on
 * @param state            its run state
 * @param pid              the hypervisor process' id, {@link #UNKNOWN} when there is none
 * @param sampledAtMillis  when the figures were read (milliseconds since the epoch, wall clock)
 * @param uptimeMillis     how long the hypervisor process has run, in milliseconds; {@link #UNKNOWN} when unknown
 * @param cpuTimeMillis    CPU time (user + system) of the whole hypervisor process, every thread, in
 *                         milliseconds (10 ms resolution on Linux); {@link #UNKNOWN} when unknown
 * @param vcpus            the virtual CPUs with their threads' CPU time; empty when unknown
 * @param rssBytes         resident memory of the hypervisor process in bytes (guest RAM it touched
 *                         plus its own); {@link #UNKNOWN} when unknown
 * @param balloonBytes     the guest's current memory as the balloon device reports it, in bytes;
 *                         {@link #UNKNOWN} when there is no balloon device or it did not answer
 * @param disks            block I/O per disk, as the hypervisor counts it; empty when unknown or none
 * @param nics             network I/O per NIC; empty when none or unknown
 * @param stale            whether some source did not answer in time (or failed), so that figures
 *                         it would have given are {@link #UNKNOWN} or missing
 * @param staleReason      why, for an operator; empty when not stale
 * @param lastMigration    the last migration this node took part in for the hypervisor process that
 *                         runs the instance now, or null when there was none (since 2.2)
 */
public record InstanceStats(String name, String node, InstanceState state, long pid, long sampledAtMillis,
                            long uptimeMillis, long cpuTimeMillis, List<VcpuStats> vcpus, long rssBytes,
                            long balloonBytes, List<DiskStats> disks, List<NicStats> nics, boolean stale,
                            String staleReason, LastMigration lastMigration) implements Serializable {

    private static final long serialVersionUID = 1L;

    /** A figure that is not known. */
    public static final long UNKNOWN = -1;

    /** Copies the lists; no component may be null. */
    public InstanceStats {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(state, "state");
        vcpus = List.copyOf(vcpus);
        disks = List.copyOf(disks);
        nics = List.copyOf(nics);
        Objects.requireNonNull(staleReason, "staleReason");
    }

    /** Figures without a last migration: the 1.3 constructor. */
    public InstanceStats(String name, String node, InstanceState state, long pid, long sampledAtMillis,
                         long uptimeMillis, long cpuTimeMillis, List<VcpuStats> vcpus, long rssBytes,
                         long balloonBytes, List<DiskStats> disks, List<NicStats> nics, boolean stale,
                         String staleReason) {
        this(name, node, state, pid, sampledAtMillis, uptimeMillis, cpuTimeMillis, vcpus, rssBytes, balloonBytes,
                disks, nics, stale, staleReason, null);
    }

    /** These figures with {@code migration} as the last migration (since 2.2). */
    public InstanceStats withLastMigration(LastMigration migration) {
        return new InstanceStats(name, node, state, pid, sampledAtMillis, uptimeMillis, cpuTimeMillis, vcpus, rssBytes,
                balloonBytes, disks, nics, stale, staleReason, migration);
    }

    /** Sum of the disks' bytes read, {@link #UNKNOWN} when no disk is known. */
    public long diskReadBytes() {
        return disks.isEmpty() ? UNKNOWN : disks.stream().mapToLong(d -> Math.max(0, d.readBytes())).sum();
    }

    /** Sum of the disks' bytes written, {@link #UNKNOWN} when no disk is known. */
    public long diskWriteBytes() {
        return disks.isEmpty() ? UNKNOWN : disks.stream().mapToLong(d -> Math.max(0, d.writeBytes())).sum();
    }

    /** Sum of the NICs' bytes the guest received, {@link #UNKNOWN} when no NIC is known. */
    public long netRxBytes() {
        return nics.isEmpty() ? UNKNOWN : nics.stream().mapToLong(n -> Math.max(0, n.rxBytes())).sum();
    }

    /** Sum of the NICs' bytes the guest sent, {@link #UNKNOWN} when no NIC is known. */
    public long netTxBytes() {
        return nics.isEmpty() ? UNKNOWN : nics.stream().mapToLong(n -> Math.max(0, n.txBytes())).sum();
    }

    /** Sum of the NICs' dropped packets (both directions), {@link #UNKNOWN} when no NIC is known. */
    public long netDrops() {
        return nics.isEmpty() ? UNKNOWN
                : nics.stream().mapToLong(n -> Math.max(0, n.rxDropped()) + Math.max(0, n.txDropped())).sum();
    }

    /**
     * One virtual CPU.
     *
     * @param index         the vCPU's index (0 …)
     * @param threadId      the host thread (Linux task id) that runs it, {@link #UNKNOWN} when unknown
     * @param cpuTimeMillis CPU time (user + system) of that thread in milliseconds, {@link #UNKNOWN} when unknown
     */
    public record VcpuStats(int index, long threadId, long cpuTimeMillis) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * One disk's I/O as the hypervisor counts it (requests the guest made, after the guest's cache).
     *
     * @param device     the hypervisor's name for the disk (QEMU's drive id, e.g. {@code virtio0}, {@code disk0})
     * @param readBytes  bytes read
     * @param writeBytes bytes written
     * @param readOps    read requests completed
     * @param writeOps   write requests completed
     */
    public record DiskStats(String device, long readBytes, long writeBytes, long readOps, long writeOps)
            implements Serializable {
        private static final long serialVersionUID = 1L;

        public DiskStats {
            Objects.requireNonNull(device, "device");
        }
    }

    /**
     * One NIC's traffic from the guest's point of view (libvirt's {@code domifstat}): for a tap,
     * the guest's rx is the tap's tx. All {@link #UNKNOWN} when the host interface was not found.
     *
     * @param index     the NIC's position in the instance's NIC list
     * @param hostName  the host interface (tap) behind it; empty when unknown
     * @param rxBytes   bytes delivered to the guest
     * @param rxPackets packets delivered to the guest
     * @param rxDropped packets for the guest that were dropped (it did not take them in time)
     * @param txBytes   bytes the guest sent
     * @param txPackets packets the guest sent
     * @param txDropped packets the guest sent that the host dropped
     */
    public record NicStats(int index, String hostName, long rxBytes, long rxPackets, long rxDropped, long txBytes,
                           long txPackets, long txDropped) implements Serializable {
        private static final long serialVersionUID = 1L;

        public NicStats {
            Objects.requireNonNull(hostName, "hostName");
        }
    }

    /**
     * The last migration a node took part in for an instance's current hypervisor process, as
     * libvirt keeps a completed job's statistics ({@code virsh domjobinfo --completed}) on both
     * sides. On the node the instance arrived at it is {@code incoming}; on the node that sent
     * it, it is seen only while the instance still runs there, that is after a migration that
     * failed or was cancelled. A new process (stop and start, reboot) has none. Since 2.2.
     *
     * @param incoming         true when the instance arrived on this node, false when this node sent it
     * @param result           how it ended: {@link MigrationStatus.State#COMPLETED},
     *                         {@link MigrationStatus.State#FAILED} or {@link MigrationStatus.State#CANCELLED}
     * @param finishedAtMillis when it ended (milliseconds since the epoch, wall clock)
     * @param durationMillis   how long it took as this node measured it: a source from its start to its
     *                         end, a target from accepting the instance to running it;
     *                         {@link #UNKNOWN} when unknown
     * @param downtimeMillis   how long the guest was paused for the switch-over, as the source's
     *                         hypervisor measured it; {@link #UNKNOWN} when unknown (not completed,
     *                         or the source did not tell)
     * @param transferredBytes bytes of guest RAM the source sent; {@link #UNKNOWN} when unknown
     */
    public record LastMigration(boolean incoming, MigrationStatus.State result, long finishedAtMillis,
                                long durationMillis, long downtimeMillis, long transferredBytes)
            implements Serializable {
        private static final long serialVersionUID = 1L;

        public LastMigration {
            Objects.requireNonNull(result, "result");
            if (!result.isFinal()) {
                throw new IllegalArgumentException("result must be COMPLETED, FAILED or CANCELLED, got " + result);
            }
            if (durationMillis < UNKNOWN || downtimeMillis < UNKNOWN || transferredBytes < UNKNOWN) {
                throw new IllegalArgumentException("durationMillis, downtimeMillis and transferredBytes must be -1"
                        + " (unknown) or at least 0, got " + durationMillis + ", " + downtimeMillis + " and "
                        + transferredBytes);
            }
        }
    }
}
