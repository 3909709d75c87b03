package org.hvkit.kvm.internal.stats;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.InstanceStats;
import org.hvkit.kvm.internal.monitor.Monitors;
import org.hvkit.kvm.internal.process.QemuProcess;
import org.hvkit.kvm.internal.runtime.RuntimePaths;
import org.hvkit.kvm.internal.runtime.SafeFiles;
import org.hvkit.netdev.LinkStatistics;
import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.Netlink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One statistics pass over a node's live instances ({@code hv:stats}, {@code hv:top}): CPU
 * time, uptime, resident memory and vCPU thread times from {@code /proc}, the run state from
 * the kept QMP connection, NIC counters of every tap from one rtnetlink dump, all read fresh in
 * each pass; block I/O and the balloon from QMP, refreshed in the background.
 *
 * <p>Why the QMP part is not waited for in every pass: one QMP round trip costs a TCG QEMU
 * about a millisecond of CPU whatever the command (measured: {@code query-name} costs as much
 * as {@code query-blockstats}), so a pass that asked 200 QEMUs could not take less than
 * ~100 ms on two cores. Instead every pass starts one refresh per instance (at most one in
 * flight per process, on at most {@link #PARALLEL} threads, each step bounded by
 * {@link CollectorTimings#qmpWait}) and gives the last answer when it is younger than
 * {@link CollectorTimings#maxAge}; only without such an answer (first pass, a QEMU that stopped
 * answering) does it wait, at most {@link CollectorTimings#passDeadline}. Block I/O can so lag the other figures by one pass. What never
 * changes for a QEMU process (vCPU thread ids, taps, whether it has a balloon) is asked once
 * per pid. A QEMU stopped with SIGSTOP is seen in {@code /proc} and not asked at all; one that
 * hangs comes back {@link InstanceStats#stale stale} (with its {@code /proc} figures) once its
 * last answer is older than the maximum age, and nobody else waits for it. The three bounds are
 * the node's configuration ({@link CollectorTimings}).
 */
public final class InstanceStatsCollector implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InstanceStatsCollector.class);
    /** Threads asking QEMUs at once: a QMP round trip is mostly waiting for QEMU to be scheduled. */
    static final int PARALLEL = 8;
    /** The default of how long one instance's QMP queries (lock, connect, each command) may take. */
    static final Duration QMP_WAIT = CollectorTimings.DEFAULTS.qmpWait();
    /** The default of how old the last QMP answer may be and still be given without waiting. */
    static final Duration QMP_MAX_AGE = CollectorTimings.DEFAULTS.maxAge();
    private static final int MAX_NICS = 64;
    /** How long after its spawn a QEMU's nic files are surely written. */
    static final Duration NIC_FILES_SETTLED = Duration.ofSeconds(10);
    private static final int MAX_TAP_FILE = 64;

    private final String node;
    private final RuntimePaths paths;
    private final Supplier<List<String>> names;
    private final Function<String, Optional<QemuProcess>> alive;
    private final Monitors monitors;
    private final Netlink netlink;
    private final ProcFigures proc;
    private final CollectorTimings timings;
    private final Map<String, Known> known = new ConcurrentHashMap<>();
    private final ThreadPoolExecutor askers;

    /** What stays true for one QEMU process: asked once per pid. */
    private static final class Known {
        final QemuProcess process;
        final long pid;
        /** With the pid, identifies the process: a recycled pid has another start time. */
        final long startTicks;
        volatile List<QmpFigures.VcpuThread> vcpus;
        volatile SortedMap<Integer, String> taps;
        /** QEMU said there is no balloon device: not asked again. */
        volatile boolean noBalloon;
        /** The last QMP answer (or failure) and when it came ({@link System#nanoTime}). */
        volatile Asked lastAsked;
        volatile long lastAskedNanos;
        /** The refresh under way, if any: at most one per process. */
        final AtomicReference<Future<Asked>> inFlight = new AtomicReference<>();

        Known(QemuProcess process, long startTicks) {
            this.process = process;
            this.pid = process.pid();
            this.startTicks = startTicks;
        }
    }

    /** What the QMP part found for one instance; {@code problem} non-null when it failed. */
    private record Asked(String status, List<QmpFigures.VcpuThread> vcpus, List<InstanceStats.DiskStats> disks,
                         long balloonBytes, String problem) {
    }

    /**
     * @param names the instances the node knows (live or not)
     * @param alive the instance's live QEMU process, if it runs
     */
    public InstanceStatsCollector(String node, RuntimePaths paths, Supplier<List<String>> names,
                                  Function<String, Optional<QemuProcess>> alive, Monitors monitors, Netlink netlink,
                                  CollectorTimings timings) {
        this(node, paths, names, alive, monitors, netlink, Path.of("/proc"), timings);
    }

    InstanceStatsCollector(String node, RuntimePaths paths, Supplier<List<String>> names,
                           Function<String, Optional<QemuProcess>> alive, Monitors monitors, Netlink netlink) {
        this(node, paths, names, alive, monitors, netlink, Path.of("/proc"), CollectorTimings.DEFAULTS);
    }

    InstanceStatsCollector(String node, RuntimePaths paths, Supplier<List<String>> names,
                           Function<String, Optional<QemuProcess>> alive, Monitors monitors, Netlink netlink,
                           Path proc, CollectorTimings timings) {
        this.timings = timings;
        this.node = node;
        this.paths = paths;
        this.names = names;
        this.alive = alive;
        this.monitors = monitors;
        this.netlink = netlink;
        this.proc = new ProcFigures(proc);
        AtomicInteger n = new AtomicInteger();
        this.askers = new ThreadPoolExecutor(PARALLEL, PARALLEL, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> {
                    Thread t = new Thread(r, "hvkit-kvm-stats-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        askers.allowCoreThreadTimeOut(true);
    }

    /** Every live instance, ordered by name. */
    public List<InstanceStats> all() {
        List<String> wanted = names.get();
        known.keySet().retainAll(new java.util.HashSet<>(wanted)); // instances cleaned up since: forget them
        return collect(wanted);
    }

    /** One instance (a valid name), empty when it does not run. */
    public Optional<InstanceStats> one(String name) {
        List<InstanceStats> out = collect(List.of(name));
        return out.isEmpty() ? Optional.empty() : Optional.of(out.get(0));
    }

    private List<InstanceStats> collect(List<String> wanted) {
        long systemUptime = proc.uptimeMillis();
        Map<String, QemuProcess> live = new LinkedHashMap<>();
        Map<String, ProcFigures.Stat> stats = new HashMap<>();
        Map<String, Future<Asked>> pending = new HashMap<>();
        Map<String, Asked> reused = new HashMap<>();
        Map<String, Known> later = new LinkedHashMap<>();
        for (String name : wanted) {
            Known k = known.get(name);
            Optional<ProcFigures.Stat> stat = k == null ? Optional.empty() : proc.stat(k.pid);
            if (stat.isEmpty() || stat.get().dead() || stat.get().startTicks() != k.startTicks) {
                // first sight, or the process we knew is gone: the full liveness check (pid file, -name guard)
                known.remove(name);
                Optional<QemuProcess> p = alive.apply(name);
                stat = p.flatMap(q -> proc.stat(q.pid()));
                if (stat.isEmpty() || stat.get().dead()) {
                    continue;
                }
                k = new Known(p.get(), stat.get().startTicks());
                known.put(name, k);
            }
            Known kk = k;
            live.put(name, k.process);
            stats.put(name, stat.get());
            if (!stat.get().stopped()) {
                // every pass starts a refresh; it waits for it only when the last answer is too old
                Asked last = kk.lastAsked;
                if (last != null && System.nanoTime() - kk.lastAskedNanos <= timings.maxAge().toNanos()) {
                    reused.put(name, last);
                    later.put(name, kk);
                } else {
                    pending.put(name, refresh(name, kk));
                }
            }
        }
        Map<String, LinkStatistics> links = new HashMap<>();
        String netProblem = linkCounters(live.keySet(), links, systemUptime);
        long deadline = System.nanoTime() + timings.passDeadline().toNanos();
        List<InstanceStats> out = new ArrayList<>();
        for (Map.Entry<String, QemuProcess> e : live.entrySet()) {
            String name = e.getKey();
            Asked asked = reused.containsKey(name) ? reused.get(name)
                    : answer(name, pending.get(name), deadline, stats.get(name));
            out.add(assemble(name, e.getValue(), stats.get(name), asked, systemUptime, links, netProblem));
        }
        // the refreshes this pass does not wait for start when it is done: they do not compete with it for the CPU
        later.forEach(this::refresh);
        return out;
    }

    /** The refresh of {@code k}'s QMP figures under way, or a new one; its answer is kept in {@code k}. */
    private Future<Asked> refresh(String name, Known k) {
        Future<Asked> running = k.inFlight.get();
        if (running != null && !running.isDone()) {
            return running;
        }
        FutureTask<Asked> task = new FutureTask<>(() -> {
            Asked a = ask(name, k);
            k.lastAsked = a;
            k.lastAskedNanos = System.nanoTime();
            return a;
        });
        if (!k.inFlight.compareAndSet(running, task)) {
            return k.inFlight.get(); // another pass started one meanwhile
        }
        try {
            askers.execute(task);
        } catch (RejectedExecutionException e) {
            task.cancel(false); // closed
        }
        return task;
    }

    /** The QMP part of one instance, run on an asker thread. */
    private Asked ask(String name, Known k) {
        Path socket = paths.qmpSocket(name);
        Duration wait = timings.qmpWait();
        String status = monitors.status(name, socket, k.pid, wait);
        if (status == null) {
            return new Asked(null, k.vcpus, List.of(), InstanceStats.UNKNOWN,
                    "QMP did not answer query-status within " + wait.toMillis() + " ms");
        }
        try {
            return monitors.query(name, socket, k.pid, wait, q -> {
                if (k.vcpus == null) {
                    k.vcpus = QmpFigures.vcpuThreads(q.execute("query-cpus-fast", Map.of()));
                }
                List<InstanceStats.DiskStats> disks = QmpFigures.disks(q.execute("query-blockstats", Map.of()));
                long balloon = InstanceStats.UNKNOWN;
                if (!k.noBalloon) {
                    try {
                        balloon = QmpFigures.balloonBytes(q.execute("query-balloon", Map.of()));
                    } catch (org.hvkit.kvm.internal.monitor.QmpException x) {
                        if (x.errorClass() == null) {
                            throw x;
                        }
                        k.noBalloon = true; // DeviceNotActive: there is no balloon device, and none comes
                    }
                }
                return new Asked(status, k.vcpus, disks, balloon, null);
            });
        } catch (org.hvkit.hypervisor.HypervisorException x) {
            return new Asked(status, k.vcpus, List.of(), InstanceStats.UNKNOWN, "QMP: " + x.getMessage());
        }
    }

    /** The asker's result within the pass deadline; a stopped process was not asked. */
    private Asked answer(String name, Future<Asked> f, long deadline, ProcFigures.Stat stat) {
        if (f == null) {
            return new Asked(null, null, List.of(), InstanceStats.UNKNOWN, "the process is stopped (state "
                    + stat.state() + ", SIGSTOP or a tracer): QEMU cannot answer QMP");
        }
        try {
            return f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException x) {
            // the refresh goes on (each of its steps is bounded); the next pass takes its answer
            return new Asked(null, null, List.of(), InstanceStats.UNKNOWN,
                    "QMP did not answer within the pass deadline of " + timings.passDeadline().toMillis() + " ms");
        } catch (ExecutionException x) {
            LOG.warn("Statistics of {}: {}", name, x.getCause().toString());
            return new Asked(null, null, List.of(), InstanceStats.UNKNOWN, "QMP: " + x.getCause());
        } catch (java.util.concurrent.CancellationException x) {
            return new Asked(null, null, List.of(), InstanceStats.UNKNOWN, "the collector is closing");
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            return new Asked(null, null, List.of(), InstanceStats.UNKNOWN, "interrupted");
        }
    }

    private InstanceStats assemble(String name, QemuProcess p, ProcFigures.Stat stat, Asked asked, long systemUptime,
                                   Map<String, LinkStatistics> links, String netProblem) {
        List<String> problems = new ArrayList<>();
        if (asked.problem() != null) {
            problems.add(asked.problem());
        }
        Known k = known.get(name);
        List<InstanceStats.VcpuStats> vcpus = perVcpu(p.pid(), asked.vcpus() != null ? asked.vcpus()
                : k != null ? k.vcpus : null);
        List<InstanceStats.NicStats> nics = nics(name, links, systemUptime);
        if (netProblem != null && !nics.isEmpty()) {
            problems.add(netProblem);
        }
        long rss = proc.rssBytes(p.pid());
        // the run state as of now when the kept connection knows it (no waiting), else the last answer's
        String status = asked.problem() != null ? null : monitors.snapshot(name).filter(sn -> sn.pid() == p.pid())
                .map(Monitors.Snapshot::status).orElse(asked.status());
        return new InstanceStats(name, node, state(stat, status), p.pid(), System.currentTimeMillis(),
                ProcFigures.processUptimeMillis(systemUptime, stat.startTicks()), stat.cpuMillis(), vcpus, rss,
                asked.balloonBytes(), asked.disks(), nics, !problems.isEmpty(), String.join("; ", problems));
    }

    /** The CPU time of each vCPU thread; empty when the threads are not known. */
    private List<InstanceStats.VcpuStats> perVcpu(long pid, List<QmpFigures.VcpuThread> threads) {
        List<InstanceStats.VcpuStats> out = new ArrayList<>();
        if (threads != null) {
            for (QmpFigures.VcpuThread v : threads) {
                out.add(new InstanceStats.VcpuStats(v.index(), v.threadId(), proc.threadStat(pid, v.threadId())
                        .map(ProcFigures.Stat::cpuMillis).orElse(InstanceStats.UNKNOWN)));
            }
        }
        return out;
    }

    /** The run state as {@code hv:list} tells it: stopped or silent is unresponsive, a busy monitor running. */
    static InstanceState state(ProcFigures.Stat stat, String status) {
        return Monitors.runState(stat.stopped(), status);
    }

    private List<InstanceStats.NicStats> nics(String name, Map<String, LinkStatistics> links, long systemUptime) {
        List<InstanceStats.NicStats> out = new ArrayList<>();
        for (Map.Entry<Integer, String> tap : taps(name, systemUptime).entrySet()) {
            LinkStatistics l = links.get(tap.getValue());
            long u = InstanceStats.UNKNOWN;
            // the guest's point of view: what the tap sends (tx) is what the guest receives
            out.add(l == null ? new InstanceStats.NicStats(tap.getKey(), tap.getValue(), u, u, u, u, u, u)
                    : new InstanceStats.NicStats(tap.getKey(), tap.getValue(), l.txBytes(), l.txPackets(),
                            l.txDropped(), l.rxBytes(), l.rxPackets(), l.rxDropped()));
        }
        return out;
    }

    /** Fills {@code into} with the counters of every link (one dump) when an instance has taps; the problem or null. */
    private String linkCounters(Iterable<String> liveNames, Map<String, LinkStatistics> into, long systemUptime) {
        boolean anyTap = false;
        for (String name : liveNames) {
            anyTap |= !taps(name, systemUptime).isEmpty();
        }
        if (!anyTap) {
            return null;
        }
        try {
            for (LinkStatistics l : netlink.allLinkStatistics()) {
                into.put(l.name(), l);
            }
            return null;
        } catch (NativeException | RuntimeException e) {
            LOG.warn("Statistics: cannot read the taps' counters: {}", e.getMessage());
            return "netlink: " + e.getMessage();
        }
    }

    /**
     * The instance's taps by NIC index from {@code nic/<name>/<n>}, kept per pid. The launcher
     * writes those files just after QEMU is spawned: "no NICs" is kept only for a process older
     * than {@link #NIC_FILES_SETTLED}.
     */
    private SortedMap<Integer, String> taps(String name, long systemUptime) {
        Known k = known.get(name);
        if (k != null && k.taps != null) {
            return k.taps;
        }
        SortedMap<Integer, String> taps = readTaps(paths.nicDir(name));
        if (k != null && (!taps.isEmpty() || ProcFigures.processUptimeMillis(systemUptime, k.startTicks)
                > NIC_FILES_SETTLED.toMillis())) {
            k.taps = taps;
        }
        return taps;
    }

    /**
     * The tap names by NIC index from {@code dir}'s files {@code 0}, {@code 1} …; a file that is not
     * a small regular file holding an interface name is skipped.
     */
    static SortedMap<Integer, String> readTaps(Path dir) {
        TreeMap<Integer, String> byIndex = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                if (!n.matches("[0-9]{1,2}") || byIndex.size() >= MAX_NICS) {
                    continue;
                }
                try {
                    String tap = SafeFiles.read(f, MAX_TAP_FILE).trim();
                    if (tap.matches("[A-Za-z0-9_.:-]{1,15}")) {
                        byIndex.put(Integer.parseInt(n), tap);
                    }
                } catch (IOException e) {
                    LOG.debug("Skipping nic file {}: {}", f, e.toString());
                }
            }
        } catch (NoSuchFileException e) {
            return Collections.emptySortedMap();
        } catch (IOException e) {
            LOG.debug("Cannot list {}: {}", dir, e.toString());
            return Collections.emptySortedMap();
        }
        return Collections.unmodifiableSortedMap(byIndex);
    }

    @Override
    public void close() {
        askers.shutdownNow();
    }
}
