package org.hvkit.netdev.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;

import org.hvkit.netdev.CpuAffinity;
import org.hvkit.netdev.NativeException;
import org.osgi.service.component.annotations.Component;

/** {@link CpuAffinity} over {@code sched_setaffinity(2)} and {@code /proc/<pid>/task}. */
@Component(service = CpuAffinity.class)
public final class SchedCpuAffinity implements CpuAffinity {

    /** How often {@link #setProcess} lists the threads before it gives up on a process that keeps starting some. */
    static final int MAX_ROUNDS = 16;
    /** A {@code cpu_set_t} that holds {@link #MAX_CPUS} bits. */
    private static final int SET_BYTES = MAX_CPUS / 8;

    private final Path proc;

    public SchedCpuAffinity() {
        this(Path.of("/proc"));
    }

    /** For tests: another procfs root. */
    SchedCpuAffinity(Path proc) {
        this.proc = proc;
    }

    @Override
    public int hostCpus() {
        return Math.min(Math.max(LibC.INSTANCE.get_nprocs_conf(), 1), MAX_CPUS);
    }

    @Override
    public void setThread(long tid, SortedSet<Integer> cpus) throws NativeException {
        Memory set = cpuSet(cpus);
        int id = threadId(tid);
        if (LibC.INSTANCE.sched_setaffinity(id, new NativeLong(SET_BYTES), set) == -1) {
            throw LibC.error("Failed to set the CPU affinity of thread " + tid + " to " + cpus, Native.getLastError());
        }
    }

    @Override
    public List<Long> setProcess(long pid, SortedSet<Integer> cpus) throws NativeException {
        cpuSet(cpus);
        threadId(pid);
        Set<Long> done = new LinkedHashSet<>();
        for (int round = 0; round < MAX_ROUNDS; round++) {
            List<Long> fresh = threads(pid).stream().filter(t -> !done.contains(t)).toList();
            if (fresh.isEmpty()) {
                return List.copyOf(done);
            }
            for (long tid : fresh) {
                try {
                    setThread(tid, cpus);
                } catch (NativeException e) {
                    if (e.errno() != LibC.ESRCH || tid == pid) {
                        throw e;
                    }
                    // the thread ended between the listing and now
                }
                done.add(tid);
            }
        }
        throw new NativeException("Failed to set the CPU affinity of process " + pid + ": it kept starting threads"
                + " through " + MAX_ROUNDS + " listings of " + proc.resolve(pid + "/task"), 0);
    }

    @Override
    public SortedSet<Integer> get(long tid) throws NativeException {
        Memory set = new Memory(SET_BYTES);
        set.clear();
        if (LibC.INSTANCE.sched_getaffinity(threadId(tid), new NativeLong(SET_BYTES), set) == -1) {
            throw LibC.error("Failed to get the CPU affinity of thread " + tid, Native.getLastError());
        }
        SortedSet<Integer> cpus = new TreeSet<>();
        for (int i = 0; i < MAX_CPUS; i++) {
            if ((set.getByte(i / 8) & (1 << (i % 8))) != 0) {
                cpus.add(i);
            }
        }
        return Collections.unmodifiableSortedSet(cpus);
    }

    /** The thread ids under {@code /proc/<pid>/task}; a missing directory means the process is gone. */
    private List<Long> threads(long pid) throws NativeException {
        Path dir = proc.resolve(Long.toString(pid)).resolve("task");
        try (Stream<Path> tasks = Files.list(dir)) {
            List<Long> ids = new ArrayList<>();
            for (Path t : (Iterable<Path>) tasks::iterator) {
                String n = t.getFileName().toString();
                if (!n.isEmpty() && n.length() <= 10 && n.chars().allMatch(c -> c >= '0' && c <= '9')) {
                    ids.add(Long.parseLong(n));
                }
            }
            return ids;
        } catch (NoSuchFileException e) {
            throw new NativeException("Failed to set the CPU affinity of process " + pid + ": no such process ("
                    + dir + " is missing)", LibC.ESRCH);
        } catch (IOException e) {
            throw new NativeException("Failed to list the threads of process " + pid + " (" + dir + "): " + e, 0);
        }
    }

    /** A {@code cpu_set_t} of {@code cpus}, after the bounds checks. */
    private Memory cpuSet(SortedSet<Integer> cpus) {
        if (cpus.isEmpty()) {
            throw new IllegalArgumentException("An empty CPU set: a thread needs at least one CPU to run on");
        }
        int host = hostCpus();
        int first = cpus.first();
        int last = cpus.last();
        if (first < 0 || last >= host) {
            throw new IllegalArgumentException("CPU " + (first < 0 ? first : last) + " does not exist on this host: it has "
                    + host + " CPUs (0-" + (host - 1) + ")");
        }
        Memory set = new Memory(SET_BYTES);
        set.clear();
        for (int cpu : cpus) {
            set.setByte(cpu / 8, (byte) (set.getByte(cpu / 8) | (1 << (cpu % 8))));
        }
        return set;
    }

    private static int threadId(long tid) {
        if (tid <= 0 || tid > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Not a thread id: " + tid);
        }
        return (int) tid;
    }
}
