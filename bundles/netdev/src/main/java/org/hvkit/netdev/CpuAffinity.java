package org.hvkit.netdev;

import java.util.List;
import java.util.SortedSet;

import org.osgi.annotation.versioning.ProviderType;

/**
 * CPU affinity of threads ({@code sched_setaffinity(2)}): what Ganeti 3.0 does with psutil's
 * {@code Process.cpu_affinity} for {@code cpu_mask} ({@code _SetProcessAffinity} in
 * {@code lib/hypervisor/hv_kvm/__init__.py}). Setting another user's thread needs root (or
 * {@code CAP_SYS_NICE}). Since 1.3.
 */
@ProviderType
public interface CpuAffinity {

    /** The most CPUs a set may name: Linux' largest {@code NR_CPUS}. */
    int MAX_CPUS = 8192;

    /** The CPUs this host has ({@code get_nprocs_conf(3)}: numbered from 0, online or not). */
    int hostCpus();

    /**
     * Lets thread {@code tid} run only on {@code cpus}.
     *
     * @throws IllegalArgumentException when {@code cpus} is empty or names a CPU below 0 or at
     *                                  or above {@link #hostCpus()} (the message names the CPU
     *                                  and the host's count), or {@code tid} is not a thread id
     * @throws NativeException          "Failed to set the CPU affinity of thread N: …" (errno
     *                                  {@code ESRCH}: no such thread)
     */
    void setThread(long tid, SortedSet<Integer> cpus) throws NativeException;

    /**
     * Lets every thread of process {@code pid} ({@code /proc/<pid>/task}) run only on
     * {@code cpus}. A thread started meanwhile by a thread not yet set would be missed, so the
     * listing repeats until it finds no new thread (a bounded number of times); a thread that
     * exits meanwhile is passed over.
     *
     * @return the ids of the threads set, in the order set
     * @throws IllegalArgumentException as {@link #setThread}
     * @throws NativeException          when the process is gone, or its threads keep appearing
     */
    List<Long> setProcess(long pid, SortedSet<Integer> cpus) throws NativeException;

    /** The CPUs thread {@code tid} may run on ({@code sched_getaffinity(2)}). */
    SortedSet<Integer> get(long tid) throws NativeException;
}
