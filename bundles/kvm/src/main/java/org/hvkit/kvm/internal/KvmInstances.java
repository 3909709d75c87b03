package org.hvkit.kvm.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.ParameterChecks;
import org.hvkit.hypervisor.ParameterException;
import org.hvkit.hypervisor.InstanceEvents;
import org.hvkit.kvm.internal.caps.CapabilityCache;
import org.hvkit.kvm.internal.events.InstanceEventSink;
import org.hvkit.kvm.internal.events.LifecycleEvents;
import org.hvkit.kvm.internal.monitor.ConnectionWatcher;
import org.hvkit.kvm.internal.monitor.Monitors;
import org.hvkit.kvm.internal.monitor.QmpException;
import org.hvkit.kvm.internal.network.NativeNicConfigurator;
import org.hvkit.kvm.internal.network.NicConfigurator;
import org.hvkit.kvm.internal.network.ScriptNicConfigurator;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.process.Accounts;
import org.hvkit.kvm.internal.process.CpuPinning;
import org.hvkit.kvm.internal.process.QemuProcess;
import org.hvkit.kvm.internal.process.QemuProcesses;
import org.hvkit.kvm.internal.runtime.InstanceCleaner;
import org.hvkit.kvm.internal.runtime.InstanceLocks;
import org.hvkit.kvm.internal.runtime.RuntimePaths;
import org.hvkit.kvm.internal.runtime.RuntimeStore;
import org.hvkit.netdev.Netlink;
import org.hvkit.uidpool.UidPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The KVM driver's lifecycle core for one node: it owns the runtime store, the process table,
 * the QMP connections, the cleaner, the capability cache, the launcher and the instance locks,
 * and nothing it uses calls back into the DS facade (libvirt's {@code qemu_process.c} under
 * {@code qemu_driver.c}). Every operation that changes an instance runs under that instance's
 * lock ({@link InstanceLocks}); reads never take it.
 *
 * <p>Closing hands the node over: new operations are refused, running ones get a bounded time
 * to finish (their waits end early), QMP connections close, and the runtime directory's lock
 * is released for the successor.
 */
final class KvmInstances implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KvmInstances.class);
    static final Duration QMP_TIMEOUT = Duration.ofSeconds(10);
    /** How long an operation waits for another one on the same instance before "busy". */
    static final Duration LOCK_WAIT = Duration.ofSeconds(10);
    /** How long closing waits for operations in flight. */
    static final Duration HANDOVER_WAIT = Duration.ofSeconds(20);
    /** How long a start waits for QEMU to daemonize (the first process exits once the guest is set up). */
    static final Duration LAUNCH_TIMEOUT = Duration.ofSeconds(60);

    private final KvmSettings settings;
    private final RuntimePaths paths;
    private final RuntimeStore store;
    private final CapabilityCache capabilities;
    private final QemuProcesses processes = new QemuProcesses();
    private final Accounts accounts;
    private final Monitors monitors = new Monitors(QMP_TIMEOUT);
    private final InstanceCleaner cleaner;
    private final InstanceLocks locks;
    private final KvmLauncher launcher;
    private final Supplier<UidPool> uidPool;
    private final Netlink netlink;
    private final InstanceLocks.Held rootLock;
    private final InstanceStates states;
    private final LifecycleEvents events;
    private final ConnectionWatcher watcher;
    private final DiskChecks diskChecks = new DiskChecks(n -> alive(n).map(p -> OptionalLong.of(p.pid()))
            .orElse(OptionalLong.empty()));
    private final Set<Operation> inFlight = ConcurrentHashMap.newKeySet();
    private volatile boolean closing;

    KvmInstances(KvmSettings settings, NativeServices natives, Supplier<UidPool> uidPool) throws HypervisorException {
        this(settings, natives, uidPool, () -> null);
    }

    /**
     * Opens the node: its runtime directory, and a watch on every instance an earlier owner
     * started that still runs (adopted without an event: nothing started).
     *
     * @param eventSink where instance events go; null while there is none (no EventAdmin)
     */
    KvmInstances(KvmSettings settings, NativeServices natives, Supplier<UidPool> uidPool,
                 Supplier<InstanceEventSink> eventSink) throws HypervisorException {
        this(settings, natives, uidPool, eventSink, LAUNCH_TIMEOUT);
    }

    /** {@link #KvmInstances(KvmSettings, NativeServices, Supplier, Supplier)} with another launch timeout (tests). */
    KvmInstances(KvmSettings settings, NativeServices natives, Supplier<UidPool> uidPool,
                 Supplier<InstanceEventSink> eventSink, Duration launchTimeout) throws HypervisorException {
        this.settings = settings;
        this.uidPool = uidPool;
        this.netlink = natives.netlink();
        this.paths = new RuntimePaths(settings.rootDir());
        this.store = new RuntimeStore(paths);
        store.ensureDirectories();
        this.locks = new InstanceLocks(paths, natives.locks(), "node " + settings.node() + ", pid "
                + ProcessHandle.current().pid());
        this.rootLock = locks.ownRoot();
        try {
            this.capabilities = new CapabilityCache(natives.spawner(), paths.capsDir());
            this.accounts = new Accounts(natives.spawner());
            this.cleaner = new InstanceCleaner(paths);
            NicConfigurator nics = settings.scriptNicSetup()
                    ? ScriptNicConfigurator.withScript(settings.ifupScript(), paths, natives.spawner(),
                            settings.ifupTimeout())
                    : new NativeNicConfigurator(natives.netlink());
            this.launcher = new KvmLauncher(settings.kvmPath(), settings.otherKvmPaths(), settings.spice(), store, natives.spawner(), natives.taps(), nics,
                    processes, accounts, monitors, cleaner, new CpuPinning(natives.affinity()), launchTimeout);
            this.states = new InstanceStates(paths, store, processes, monitors);
            this.events = new LifecycleEvents(settings.node(), eventSink);
            monitors.listener(events);
            for (String name : store.knownNames()) {
                alive(name).ifPresent(p -> events.started(name, p.pid(), staysAfterShutdown(name), null));
            }
            this.watcher = new ConnectionWatcher(settings.node(), monitors, events::watched, paths::qmpSocket,
                    processes::isZombieOrGone,
                    pid -> processes.stat(pid).map(QemuProcesses.Stat::stopped).orElse(false), events::vanished);
        } catch (HypervisorException | RuntimeException e) {
            rootLock.close();
            throw e;
        } catch (org.hvkit.netdev.NativeException e) {
            rootLock.close();
            throw new HypervisorException("Cannot watch the instances of node " + settings.node() + ": "
                    + e.getMessage(), e);
        }
        events.onWatch(watcher::wake);
        watcher.start();
    }

    RuntimePaths paths() { return paths; }
    /** The node's rtnetlink (link counters for statistics). */
    Netlink netlink() {
        return netlink;
    }

    RuntimeStore store() { return store; }
    CapabilityCache capabilities() { return capabilities; }
    QemuProcesses processes() { return processes; }
    Monitors monitors() { return monitors; }
    InstanceCleaner cleaner() { return cleaner; }
    KvmLauncher launcher() { return launcher; }
    Accounts accounts() { return accounts; }
    UidPool uidPool() { return uidPool.get(); }
    InstanceStates states() { return states; }
    LifecycleEvents events() { return events; }
    DiskChecks diskChecks() { return diskChecks; }

    KvmSettings settings() { return settings; }

    /** The instance's parameters over this node's defaults (Ganeti's cluster-level hvparams). */
    Map<String, Object> filled(Instance instance) throws ParameterException {
        return new LinkedHashMap<>(ParameterChecks.fill(KvmParameters.PARAMETERS, settings.hvparamDefaults(),
                instance.hvparams()));
    }

    /** Whether the node is being handed over: long waits end early, new operations are refused. */
    boolean closing() {
        return closing;
    }

    /** The instance's QEMU process when it runs ({@link InstanceStates#alive}). */
    Optional<QemuProcess> alive(String name) {
        return states.alive(name);
    }

    /** A running operation: the instance's lock, registered so that closing can wait for it. */
    final class Operation implements AutoCloseable {
        private final String name;
        private final InstanceLocks.Held held;

        private Operation(String name, InstanceLocks.Held held) {
            this.name = name;
            this.held = held;
            inFlight.add(this);
        }

        /** The instance has no runtime state left: its lock file goes too. */
        void removeLockFile() {
            held.removeOnRelease();
        }

        /** Releases the lock; an instance without any runtime state (a refused start …) keeps no lock file either. */
        @Override
        public void close() {
            inFlight.remove(this);
            if (!store.hasState(name)) {
                held.removeOnRelease();
            }
            held.close();
        }
    }

    /**
     * Starts an operation on {@code name}: waits at most {@link #LOCK_WAIT} for another one to end.
     *
     * @throws HypervisorException when the node is closing or the instance stays busy
     */
    Operation begin(String name, String what) throws HypervisorException {
        refuseWhenClosing(what + " " + name);
        Operation op = new Operation(name, locks.acquire(name, what, LOCK_WAIT));
        if (closing) {
            op.close();
            refuseWhenClosing(what + " " + name);
        }
        return op;
    }

    /**
     * Starts an operation that only winds an instance down (a stop, a cleanup, the abort of a
     * migration target): allowed while the node is closing, so that an abort caused by the
     * hand-over itself can still remove what it would otherwise leave behind.
     */
    Operation beginWindDown(String name, String what) throws HypervisorException {
        return new Operation(name, locks.acquire(name, what, LOCK_WAIT));
    }

    void refuseWhenClosing(String what) throws HypervisorException {
        if (closing) {
            throw new HypervisorException("Cannot " + what + ": the KVM hypervisor of node " + settings.node()
                    + " is stopping (bundle stop, update or reconfiguration); its successor takes over the instances");
        }
    }

    /** Runs QMP commands on a live instance's kept connection. */
    <T> T onMonitor(String name, long pid, Monitors.QmpCall<T> call) throws HypervisorException {
        return monitors.call(name, paths.qmpSocket(name), pid, call);
    }

    /**
     * Releases what a QEMU that died without a cleanup left (its uid, nic files, sockets, pid
     * file) before a new process of the instance starts: a start after a {@code kill -9} must not
     * leave the old uid taken (fault injection found two uids held for one instance). Caller
     * holds the instance lock and has checked the instance is not alive.
     */
    void reclaim(String name) throws HypervisorException {
        Long uid = cleaner.recordedUid(name);
        boolean leftovers = uid != null || Files.exists(paths.nicDir(name)) || Files.exists(paths.pidFile(name))
                || Files.exists(paths.pendingFile(name));
        if (!leftovers) {
            return;
        }
        LOG.info("Instance {} is not running: releasing what its last process left{}", name,
                uid == null ? "" : " (uid " + uid + ")");
        monitors.forget(name);
        cleaner.releaseResources(name, uidPool.get());
        cleaner.removeSockets(name);
        try {
            Files.deleteIfExists(paths.confined(paths.pidFile(name)));
        } catch (IOException e) {
            throw new HypervisorException("Failed to remove " + paths.pidFile(name) + ": " + e, e);
        }
    }

    /**
     * Starts a filled and validated instance: refuses a running one, reclaims a dead one's
     * leftovers, refuses MACs in use on this node and disks that are not disks, saves the
     * runtime, launches; on failure everything the start created is removed.
     */
    void start(Instance started, Map<String, Object> hv, boolean paused) throws HypervisorException {
        String name = started.name();
        try (Operation op = begin(name, "start")) {
            if (alive(name).isPresent()) {
                if (!shutDownByGuest(name)) {
                    throw new HypervisorException("Failed to start instance " + name + ": already running");
                }
                // user_shutdown: the guest powered off and QEMU waited; a start replaces that QEMU
                LOG.info("Instance {} was shut down by its guest; its QEMU goes before the new start", name);
                kill(name, LifecycleEvents.SILENT);
            }
            reclaim(name);
            Map<String, Instance> running = states.runningDefinitions(name);
            StartChecks.macsUnused(started, "Failed to start instance " + name + ": ", running);
            var disks = diskChecks.check(started, hv, settings.rootDir(), settings.hostDisks(),
                    "Failed to start instance " + name + ": ", running);
            var caps = capabilities.of(launcher.builder().binary(hv));
            var generated = launcher.builder().generate(started, hv, caps);
            generated.warnings().forEach(w -> LOG.warn("{}: {}", name, w));
            store.save(name, generated.runtime(), started);
            try {
                long pid = launcher.execute(started, generated.runtime(), hv, caps, uidPool.get(), null, paused);
                diskChecks.keep(name, pid, started.disks(), disks);
                events.started(name, pid, generated.runtime().argv().contains("-no-shutdown"),
                        paused ? InstanceEvents.REASON_START_PAUSED : InstanceEvents.REASON_START);
            } catch (HypervisorException | RuntimeException e) {
                if (removeQuietly(name)) {
                    op.removeLockFile();
                }
                throw e;
            }
        }
    }

    /**
     * Everything of {@code name} after a failed start or accept (caller holds the lock); whether all went.
     * Nothing goes while a QEMU of the instance still runs (one the failed launch could not kill,
     * {@link KvmLauncher}): its uid, pid file and runtime stay with it.
     */
    boolean removeQuietly(String name) {
        monitors.forget(name);
        Optional<QemuProcess> survivor = alive(name);
        if (survivor.isPresent()) {
            LOG.warn("Not cleaning up after {}: its QEMU (pid {}) still runs", name, survivor.get().pid());
            return false;
        }
        try {
            cleaner.removeAll(name, uidPool.get(), states.vncDirectory(name));
            return true;
        } catch (HypervisorException e) {
            LOG.warn("Cleaning up after {}: {}", name, e.getMessage());
            return false;
        }
    }

    /** Soft reboot (Ganeti's): a clean stop that really waits, then a start from the saved runtime. */
    void reboot(String name, Map<String, Object> confHv) throws HypervisorException {
        try (Operation op = begin(name, "reboot")) {
            if (alive(name).isEmpty()) {
                throw new HypervisorException("Failed to reboot instance " + name + ": not running");
            }
            RuntimeStore.Saved saved = store.load(name).orElseThrow(() -> new HypervisorException(
                    "Failed to reboot instance " + name + ": no saved runtime (" + paths.runtimeFile(name) + ")"));
            Instance def = saved.instance().orElse(Instance.builder(name).primaryNode(settings.node()).build());
            // the binary it runs must still be allowed and usable, and its disks and media pass a
            // start's rules again (QEMU reopens the paths as root; a link may point elsewhere now):
            // checked before the guest goes down
            var caps = capabilities.of(launcher.builder().binary(saved.runtime()));
            var disks = diskChecks.check(def, saved.runtime().hvparams(), settings.rootDir(), settings.hostDisks(),
                    "Failed to reboot instance " + name + ": ", states.runningDefinitions(name));
            stopLocked(name, KvmParameters.bool(saved.runtime().hvparams(), KvmParameters.ACPI),
                    settings.stopTimeout(), InstanceEvents.REASON_REBOOT);
            cleaner.releaseResources(name, uidPool.get());
            long pid = launcher.execute(def, saved.runtime(), confHv, caps, uidPool.get(), null, false);
            diskChecks.keep(name, pid, def.disks(), disks);
            events.started(name, pid, saved.runtime().argv().contains("-no-shutdown"), InstanceEvents.REASON_REBOOT);
            store.saveText(name, saved.text());
        }
    }

    /**
     * Clean stop with a deadline: ACPI powerdown over QMP (unless {@code acpi} is off or the
     * process is stopped and cannot act on it), a wait for the process to go, then a kill.
     * Returns within {@code timeout} plus the kill (at most ~15 s). Caller holds the lock.
     */
    void stopLocked(String name, boolean acpi, Duration timeout) throws HypervisorException {
        stopLocked(name, acpi, timeout, InstanceEvents.REASON_ADMIN_STOP);
    }

    /** {@link #stopLocked(String, boolean, Duration)}; {@code reason} goes into the instance's {@code STOPPED} event. */
    void stopLocked(String name, boolean acpi, Duration timeout, String reason) throws HypervisorException {
        Optional<QemuProcess> p = alive(name);
        if (p.isEmpty()) {
            return;
        }
        long pid = p.get().pid();
        events.ending(name, pid, reason);
        boolean ended = false;
        try {
            stopLocked(name, pid, acpi, timeout);
            ended = true;
        } finally {
            if (ended) {
                events.ended(name, pid, reason);
            } else {
                events.notEnding(name, pid);
            }
        }
    }

    private void stopLocked(String name, long pid, boolean acpi, Duration timeout) throws HypervisorException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            boolean stopped = processes.stat(pid).map(QemuProcesses.Stat::stopped).orElse(false);
            if (acpi && !stopped) {
                boolean staysAfterShutdown = staysAfterShutdown(name);
                try {
                    Duration qmpWait = min(QMP_TIMEOUT, remaining(deadline));
                    monitors.call(name, paths.qmpSocket(name), pid, qmpWait,
                            q -> q.execute("system_powerdown", Map.of()));
                } catch (HypervisorException e) {
                    LOG.warn("ACPI powerdown of {} failed ({}); killing it", name, e.getMessage());
                }
                if (staysAfterShutdown) {
                    quitAfterGuestShutdown(name, pid, deadline);
                }
                if (processes.waitGone(pid, remaining(deadline), this::closing)) {
                    LOG.info("Instance {} shut down cleanly", name);
                    return;
                }
                refuseWhenClosing("finish the clean stop of " + name + " (it was asked to power down)");
                LOG.warn("Instance {} did not shut down within {}; killing it", name, timeout);
            } else if (stopped) {
                LOG.warn("Instance {} (pid {}) is stopped (SIGSTOP) and cannot shut down cleanly; killing it", name, pid);
            }
            kill(name, pid);
        } finally {
            monitors.forget(name);
        }
    }

    /** Whether the instance's QEMU is alive only because its guest powered off under {@code -no-shutdown}. */
    private boolean shutDownByGuest(String name) {
        return staysAfterShutdown(name)
                && info(name).map(i -> i.state() == org.hvkit.hypervisor.InstanceState.SHUTDOWN).orElse(false);
    }

    /**
     * Whether the instance's QEMU runs with {@code -no-shutdown} (Ganeti 3.0's user_shutdown): a
     * guest that powers off then leaves QEMU in state {@code shutdown} instead of ending it. The
     * saved command says how the running process was started; unreadable means no.
     */
    private boolean staysAfterShutdown(String name) {
        try {
            return store.load(name).map(s -> s.runtime().argv().contains("-no-shutdown")).orElse(false);
        } catch (HypervisorException e) {
            return false;
        }
    }

    /**
     * A clean stop under {@code -no-shutdown}: once the guest has shut down (QEMU's
     * {@code SHUTDOWN} event, or state {@code shutdown} already), tell QEMU to {@code quit}.
     * Holds the monitor for at most a second at a time, so listings still get their turn; ends
     * at the deadline or when the node is handed over (the caller then kills).
     */
    private void quitAfterGuestShutdown(String name, long pid, long deadline) {
        while (remaining(deadline).compareTo(Duration.ZERO) > 0 && !closing()) {
            try {
                Duration slice = min(Duration.ofSeconds(1), remaining(deadline));
                boolean down = monitors.call(name, paths.qmpSocket(name), pid, min(QMP_TIMEOUT, remaining(deadline)),
                        q -> {
                            boolean off = q.awaitEvent(e -> "SHUTDOWN".equals(e.path("event").asText()), slice) != null
                                    || "shutdown".equals(q.execute("query-status", Map.of()).path("status").asText());
                            if (off) {
                                try {
                                    q.execute("quit", Map.of());
                                } catch (QmpException e) {
                                    // QEMU may close the connection before it answers
                                }
                            }
                            return off;
                        });
                if (down) {
                    return;
                }
            } catch (HypervisorException e) {
                // gone meanwhile, or the monitor failed: the wait for the process decides
                LOG.debug("Waiting for the guest of {} to shut down: {}", name, e.getMessage());
                return;
            }
        }
    }

    /** Kills the instance's QEMU now; takes no lock, so it overtakes a clean stop that waits. */
    void kill(String name) throws HypervisorException {
        kill(name, InstanceEvents.REASON_ADMIN_KILL);
    }

    /** {@link #kill(String)}; {@code reason} for the instance's {@code STOPPED} event, or {@link LifecycleEvents#SILENT}. */
    void kill(String name, String reason) throws HypervisorException {
        Optional<QemuProcess> p = alive(name);
        p.ifPresent(q -> events.ending(name, q.pid(), reason));
        monitors.forget(name);
        if (p.isPresent()) {
            try {
                kill(name, p.get().pid());
            } catch (HypervisorException | RuntimeException e) {
                events.notEnding(name, p.get().pid());
                throw e;
            }
            events.ended(name, p.get().pid(), reason);
        }
    }

    private void kill(String name, long pid) throws HypervisorException {
        if (!processes.kill(pid, Duration.ofSeconds(3))) {
            throw new HypervisorException("Failed to stop instance " + name + ": pid " + pid + " survived SIGKILL");
        }
        monitors.forget(name);
    }

    /** Removes the runtime state of a stopped instance; refuses a live one. */
    void cleanup(String name) throws HypervisorException {
        try (Operation op = beginWindDown(name, "cleanup")) {
            if (alive(name).isPresent()) {
                throw new HypervisorException("Cannot cleanup a live instance " + name);
            }
            monitors.forget(name);
            cleaner.removeAll(name, uidPool.get(), states.vncDirectory(name));
            op.removeLockFile();
        }
    }

    Optional<InstanceInfo> info(String name) {
        return states.info(name, InstanceStates.QUERY_WAIT);
    }

    List<InstanceInfo> infos() {
        return states.all();
    }

    List<String> list() {
        List<String> out = new ArrayList<>();
        for (String name : store.knownNames()) {
            java.util.OptionalLong kept = monitors.connectedPid(name);
            if (kept.isPresent() && !processes.isZombieOrGone(kept.getAsLong())) {
                out.add(name);
            } else if (kept.isPresent()) {
                monitors.forget(name);
            } else if (alive(name).isPresent()) {
                out.add(name);
            }
        }
        return out;
    }

    /** Closes the node for its successor (see the class comment). */
    @Override
    public void close() {
        closing = true;
        watcher.close(); // no crash is noticed for a node being handed over: its successor watches
        long deadline = System.nanoTime() + HANDOVER_WAIT.toNanos();
        while (!inFlight.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!inFlight.isEmpty()) {
            LOG.warn("KVM hypervisor of node {}: {} operation(s) still running after {}; their QMP connections close now",
                    settings.node(), inFlight.size(), HANDOVER_WAIT);
        }
        events.close();
        monitors.close();
        states.close();
        diskChecks.close();
        rootLock.close();
    }

    static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

}
