package org.hvkit.kvm.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.kvm.internal.monitor.Monitors;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.process.QemuProcess;
import org.hvkit.kvm.internal.process.QemuProcesses;
import org.hvkit.kvm.internal.runtime.RuntimePaths;
import org.hvkit.kvm.internal.runtime.RuntimeStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the node can tell about its instances without changing them, every answer bounded:
 * run state from the kept QMP connection (or one {@code query-status} with a short timeout),
 * the process state and CPU time from {@code /proc/<pid>/stat}. A QEMU stopped with SIGSTOP, or
 * one that does not answer in time, is {@link InstanceState#UNRESPONSIVE}, never "running";
 * listing all instances asks the slow ones in parallel under one deadline, so one hung QEMU
 * never delays the others (fault injection: one SIGSTOPped QEMU held {@code hv:list} for
 * 10 s and showed as running).
 */
final class InstanceStates implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InstanceStates.class);
    /** How long one instance's {@code query-status} may take before it counts as unresponsive. */
    static final Duration QUERY_WAIT = Duration.ofMillis(1500);
    /** How long a listing of all instances waits for the slow ones. */
    static final Duration LIST_DEADLINE = Duration.ofSeconds(2);

    private final RuntimePaths paths;
    private final RuntimeStore store;
    private final QemuProcesses processes;
    private final Monitors monitors;
    /** Memory and VCPUs per pid, read once from the command line (it never changes for a pid). */
    private final Map<String, QemuProcess> processByName = new ConcurrentHashMap<>();
    private final ExecutorService askers;

    InstanceStates(RuntimePaths paths, RuntimeStore store, QemuProcesses processes, Monitors monitors) {
        this.paths = paths;
        this.store = store;
        this.processes = processes;
        this.monitors = monitors;
        AtomicInteger n = new AtomicInteger();
        this.askers = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "hvkit-kvm-status-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** The instance's QEMU process when it runs (pid file + {@code /proc} with the {@code -name} guard). */
    Optional<QemuProcess> alive(String name) {
        return processes.alive(QemuProcesses.readPid(paths.pidFile(name)), name);
    }

    /** One instance, waiting at most {@code wait} for QEMU; empty when it is not alive. */
    Optional<InstanceInfo> info(String name, Duration wait) {
        Optional<InstanceInfo> fast = fromKeptConnection(name);
        return fast.isPresent() ? fast : asked(name, wait);
    }

    /** Without waiting: the kept connection knows the pid and the state. */
    private Optional<InstanceInfo> fromKeptConnection(String name) {
        Optional<Monitors.Snapshot> kept = monitors.snapshot(name);
        if (kept.isEmpty()) {
            return Optional.empty();
        }
        QemuProcess p = processByName.get(name);
        if (p == null || p.pid() != kept.get().pid()) {
            return Optional.empty();
        }
        return describe(name, p, kept.get().status());
    }

    private Optional<InstanceInfo> asked(String name, Duration wait) {
        Optional<QemuProcess> p = alive(name);
        if (p.isEmpty()) {
            processByName.remove(name);
            return Optional.empty();
        }
        processByName.put(name, p.get());
        if (processes.stat(p.get().pid()).map(QemuProcesses.Stat::stopped).orElse(false)) {
            return describe(name, p.get(), null);
        }
        String status = monitors.status(name, paths.qmpSocket(name), p.get().pid(), wait);
        return describe(name, p.get(), status);
    }

    /** {@code status}: QEMU's run state, {@link Monitors#BUSY} or null for no answer. */
    private Optional<InstanceInfo> describe(String name, QemuProcess p, String status) {
        Optional<QemuProcesses.Stat> stat = processes.stat(p.pid());
        if (stat.isEmpty() || stat.get().dead()) {
            // its connection may look healthy a moment longer (other threads still exiting): drop it now
            monitors.forget(name);
            processByName.remove(name);
            return Optional.empty();
        }
        InstanceState state = Monitors.runState(stat.get().stopped(), status);
        return Optional.of(new InstanceInfo(name, p.pid(), p.memoryMiB(), p.vcpus(), state, stat.get().cpuSeconds()));
    }

    /** Every live instance; slow ones are asked in parallel and reported unresponsive after the deadline. */
    List<InstanceInfo> all() {
        List<String> names = store.knownNames();
        Map<String, Optional<InstanceInfo>> results = new LinkedHashMap<>();
        Map<String, Future<Optional<InstanceInfo>>> pending = new LinkedHashMap<>();
        for (String name : names) {
            Optional<InstanceInfo> fast = fromKeptConnection(name);
            if (fast.isPresent()) {
                results.put(name, fast);
            } else {
                results.put(name, Optional.empty());
                pending.put(name, askers.submit(() -> asked(name, QUERY_WAIT)));
            }
        }
        long deadline = System.nanoTime() + LIST_DEADLINE.toNanos();
        for (Map.Entry<String, Future<Optional<InstanceInfo>>> e : pending.entrySet()) {
            try {
                results.put(e.getKey(), e.getValue().get(Math.max(0, deadline - System.nanoTime()),
                        TimeUnit.NANOSECONDS));
            } catch (TimeoutException x) {
                e.getValue().cancel(true);
                results.put(e.getKey(), unresponsive(e.getKey()));
            } catch (ExecutionException x) {
                LOG.warn("Status of {}: {}", e.getKey(), x.getCause().toString());
                results.put(e.getKey(), unresponsive(e.getKey()));
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        List<InstanceInfo> out = new ArrayList<>();
        results.values().forEach(o -> o.ifPresent(out::add));
        return out;
    }

    private Optional<InstanceInfo> unresponsive(String name) {
        return alive(name)
                .flatMap(p -> describe(name, p, null));
    }

    /**
     * The saved definitions of the instances running on this node other than {@code except}
     * (for the MAC check); damaged runtime files are skipped with a warning.
     */
    Map<String, Instance> runningDefinitions(String except) {
        Map<String, Instance> out = new LinkedHashMap<>();
        for (String name : store.knownNames()) {
            if (name.equals(except) || alive(name).isEmpty()) {
                continue;
            }
            try {
                store.load(name).ifPresent(s -> out.put(name, s.instance().orElse(Instance.builder(name)
                        .nics(s.runtime().nics()).build())));
            } catch (HypervisorException e) {
                LOG.warn("Skipping {} in the MAC check: {}", name, e.getMessage());
            }
        }
        return out;
    }

    /** The directory of the instance's VNC socket (a non-IP {@code vnc_bind_address}), from its saved runtime. */
    String vncDirectory(String name) {
        try {
            return store.load(name).map(s -> KvmParameters.str(s.runtime().hvparams(), KvmParameters.VNC_BIND_ADDRESS))
                    .filter(v -> !v.isEmpty() && !KvmParameters.isIpv4(v)).orElse(null);
        } catch (HypervisorException e) {
            LOG.warn("{}: its VNC socket (if any) cannot be found: {}", name, e.getMessage());
            return null;
        }
    }

    @Override
    public void close() {
        askers.shutdownNow();
    }
}
