package org.hvkit.kvm.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.kvm.internal.argv.ArgvLimits;
import org.hvkit.kvm.internal.argv.ExecutionContext;
import org.hvkit.kvm.internal.argv.KvmArgvBuilder;
import org.hvkit.kvm.internal.argv.SpiceNode;
import org.hvkit.kvm.internal.argv.NicArgs;
import org.hvkit.kvm.internal.argv.KvmRuntime;
import org.hvkit.kvm.internal.monitor.Monitors;
import org.hvkit.kvm.internal.runtime.InstanceCleaner;
import org.hvkit.kvm.internal.runtime.RuntimePaths;
import org.hvkit.kvm.internal.runtime.RuntimeStore;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.caps.QemuFeature;
import org.hvkit.kvm.internal.network.NicConfigurator;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.params.SecurityModel;
import org.hvkit.kvm.internal.process.Accounts;
import org.hvkit.kvm.internal.process.CpuPinning;
import org.hvkit.kvm.internal.process.QemuProcesses;
import org.hvkit.netdev.FdMapping;
import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.NativeFd;
import org.hvkit.netdev.ProcessSpawner;
import org.hvkit.netdev.SpawnRequest;
import org.hvkit.netdev.SpawnResult;
import org.hvkit.netdev.Tap;
import org.hvkit.netdev.TapDevices;
import org.hvkit.netdev.UnixSocket;
import org.hvkit.uidpool.ReservedUid;
import org.hvkit.uidpool.UidPool;
import org.hvkit.uidpool.UidPoolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ganeti's {@code _ExecuteKVMRuntime} (docs/ganeti-behaviour.md, "Generation and execution"):
 * taps, uid, chroot, NIC setup, launch through netdev's spawner with the tap descriptors at the
 * numbers written into argv, nic and uid files, VNC password and {@code cont} over QMP. Any
 * failure undoes everything done so far — the QEMU process, taps, uid lock, nic and uid files —
 * and names the step (Ganeti leaked the taps there: docs/ganeti-behaviour.md, "Where hvkit
 * differs on purpose").
 */
final class KvmLauncher {

    private static final Logger LOG = LoggerFactory.getLogger(KvmLauncher.class);

    private final Path kvmPath;
    private final RuntimeStore store;
    private final RuntimePaths paths;
    private final KvmArgvBuilder builder;
    private final ProcessSpawner spawner;
    private final TapDevices taps;
    private final NicConfigurator nics;
    private final QemuProcesses processes;
    private final Accounts accounts;
    private final Duration launchTimeout;
    private final Monitors monitors;
    private final InstanceCleaner cleaner;
    private final CpuPinning pinning;

    KvmLauncher(Path kvmPath, Set<Path> otherKvmPaths, SpiceNode spice, RuntimeStore store, ProcessSpawner spawner, TapDevices taps, NicConfigurator nics,
                QemuProcesses processes, Accounts accounts, Monitors monitors, InstanceCleaner cleaner,
                CpuPinning pinning, Duration launchTimeout) {
        this.kvmPath = kvmPath;
        this.store = store;
        this.paths = store.paths();
        this.builder = new KvmArgvBuilder(kvmPath, otherKvmPaths, paths, spice);
        this.spawner = spawner;
        this.taps = taps;
        this.nics = nics;
        this.processes = processes;
        this.accounts = accounts;
        this.launchTimeout = launchTimeout;
        this.monitors = monitors;
        this.cleaner = cleaner;
        this.pinning = pinning;
    }

    KvmArgvBuilder builder() {
        return builder;
    }

    /** Takes back one NIC's host configuration (a hot modification, {@code KvmHotplug}). */
    void unconfigureNic(Instance instance, int seq, Nic nic, String tap) throws HypervisorException {
        nics.unconfigure(instance, seq, nic, tap);
    }

    /** Configures one NIC (used for the NICs a migration target deferred to finalize). */
    void configureNic(Instance instance, int seq, Nic nic, String tap) throws HypervisorException {
        nics.configure(instance, seq, nic, tap);
    }

    /** The queues of one NIC's tap, as {@link #execute} opens them (a hot-added NIC, {@code KvmHotplug}). */
    List<Tap> openTaps(boolean vnetHdr, int queues) throws NativeException {
        return taps.openMultiQueue(null, vnetHdr, queues);
    }

    /** The final argv without running anything (taps and sockets at the numbers they would get). */
    List<String> preview(KvmRuntime runtime, Map<String, Object> confHv, QemuCapabilities caps, String poolUser)
            throws HypervisorException {
        return builder.renderForNode(runtime, confHv, caps, context(runtime, confHv, caps, poolUser, null, true));
    }

    private static ExecutionContext context(KvmRuntime runtime, Map<String, Object> confHv, QemuCapabilities caps,
                                            String poolUser, String incoming, boolean paused) {
        Map<String, Object> up = up(runtime, confHv);
        return ExecutionContext.layout(runtime.nics().size(), NicArgs.queues(up, caps),
                KvmParameters.bool(up, KvmParameters.SERIAL_CONSOLE),
                KvmParameters.bool(up, KvmParameters.USE_GUEST_AGENT),
                caps, poolUser, incoming, paused);
    }

    /**
     * What one launch holds until QEMU has its copies: taps (every queue of every NIC) and the
     * NICs' tap names, listening sockets, the descriptor mappings for the child, the reserved
     * uid and, once known, the pid.
     */
    private static final class Launch implements AutoCloseable {
        final List<Tap> taps = new ArrayList<>();
        final List<String> tapNames = new ArrayList<>();
        final List<NativeFd> sockets = new ArrayList<>();
        final List<FdMapping> mappings = new ArrayList<>();
        ReservedUid uid;
        long pid;

        /** QEMU holds its own copies now (or nobody does, after a failure). */
        @Override
        public void close() {
            taps.forEach(Tap::close);
            sockets.forEach(NativeFd::close);
        }
    }

    /**
     * Runs a saved runtime on this node.
     *
     * @param incoming this node's address when it is a migration target, else null
     * @return the QEMU pid
     */
    long execute(Instance instance, KvmRuntime runtime, Map<String, Object> confHv, QemuCapabilities caps,
                 UidPool pool, String incoming, boolean startPaused) throws HypervisorException {
        String name = instance.name();
        try (Launch l = new Launch()) {
            try {
                CpuPinning.Plan pin = pinPlan(name, runtime, confHv, caps);
                openTaps(l, runtime, confHv, caps);
                String poolUser = reserveUid(l, name, confHv, pool);
                makeChroot(name, confHv);
                ExecutionContext ctx = context(runtime, confHv, caps, poolUser, incoming, startPaused);
                bindSockets(l, name, ctx);
                List<String> argv = builder.renderForNode(runtime, confHv, caps, ctx);
                configureNics(l, instance, runtime, incoming);
                l.pid = spawn(l, name, argv);
                store.saveTaps(name, l.tapNames);
                if (l.uid != null) {
                    store.saveUid(name, l.uid.uid());
                    l.uid.unlock();
                }
                afterLaunch(name, l.pid, confHv, caps, argv.contains("-spice"), pin, incoming != null || startPaused);
                LOG.info("Instance {} started, pid {}", name, l.pid);
                return l.pid;
            } catch (HypervisorException e) {
                monitors.forget(name);
                String log = qemuLogTail(name); // before undo removes the log
                String undone = undo(name, l.pid, l.uid);
                if (undone == null && log == null) {
                    throw e;
                }
                throw new HypervisorException(e.getMessage() + (undone == null ? "" : "; " + undone)
                        + (log == null ? "" : "; QEMU's log " + paths.qemuLog(name) + " ends with:\n" + log), e);
            } catch (RuntimeException e) {
                monitors.forget(name);
                String undone = undo(name, l.pid, l.uid);
                if (undone != null) {
                    e.addSuppressed(new HypervisorException(undone));
                }
                throw e;
            }
        }
    }

    /**
     * The parameters as they were at start (the runtime's) over the configured ones: Ganeti's
     * {@code up_hvp}, which decides the NICs and {@code cpu_mask}.
     */
    private static Map<String, Object> up(KvmRuntime runtime, Map<String, Object> confHv) {
        Map<String, Object> up = new LinkedHashMap<>(confHv);
        up.putAll(runtime.hvparams());
        return up;
    }

    /**
     * What {@code cpu_mask} pins, checked against this host and this QEMU (pinning finds the
     * vCPU threads over QMP) before anything is opened or run.
     */
    private CpuPinning.Plan pinPlan(String name, KvmRuntime runtime, Map<String, Object> confHv,
                                    QemuCapabilities caps) throws HypervisorException {
        CpuPinning.Plan plan;
        try {
            plan = pinning.plan(KvmParameters.str(up(runtime, confHv), KvmParameters.CPU_MASK));
        } catch (HypervisorException e) {
            throw new HypervisorException("Failed to start instance " + name + ": " + e.getMessage(), e);
        }
        if (plan != null && !caps.has(QemuFeature.QMP)) {
            throw new HypervisorException("Failed to start instance " + name + ": cpu_mask needs QMP to find the"
                    + " vCPU threads, and this QEMU has none; set cpu_mask to all");
        }
        return plan;
    }

    private void openTaps(Launch l, KvmRuntime runtime, Map<String, Object> confHv, QemuCapabilities caps)
            throws HypervisorException {
        Map<String, Object> up = up(runtime, confHv);
        boolean vnetHdr = NicArgs.vnetHdr(up, caps);
        int queues = NicArgs.queues(up, caps);
        List<List<Integer>> childFds = ExecutionContext.nicFds(runtime.nics().size(), queues);
        for (int i = 0; i < runtime.nics().size(); i++) {
            List<Tap> q = step("open a tap for NIC " + i + (queues > 1 ? " with " + queues + " queues" : ""),
                    () -> taps.openMultiQueue(null, vnetHdr, queues));
            l.taps.addAll(q);
            l.tapNames.add(q.get(0).name());
            for (int k = 0; k < q.size(); k++) {
                l.mappings.add(new FdMapping(q.get(k).fd(), childFds.get(i).get(k)));
            }
        }
    }

    /** The pool user's name for {@code security_model=pool} (the uid stays reserved in {@code l}), else null. */
    private String reserveUid(Launch l, String name, Map<String, Object> confHv, UidPool pool)
            throws HypervisorException {
        if (SecurityModel.of(confHv) != SecurityModel.POOL) {
            return null;
        }
        if (pool == null) {
            throw new HypervisorException("Failed to start instance " + name + ": security_model is pool but"
                    + " no uid pool is configured (etc/org.hvkit.uidpool.cfg)");
        }
        l.uid = step("reserve a uid", pool::reserve);
        long u = l.uid.uid();
        return accounts.userName(u).orElseThrow(() -> new HypervisorException("Failed to start instance "
                + name + ": uid " + u + " of the pool has no passwd entry (QEMU's -runas needs a user name)"));
    }

    private void makeChroot(String name, Map<String, Object> confHv) throws HypervisorException {
        if (KvmParameters.bool(confHv, KvmParameters.USE_CHROOT)) {
            Path dir = paths.confined(paths.chrootDir(name));
            step("create the chroot directory", () -> {
                Files.createDirectories(dir);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
                return dir;
            });
        }
    }

    private void bindSockets(Launch l, String name, ExecutionContext ctx) throws HypervisorException {
        cleaner.removeSockets(name);
        if (ctx.control() != null) {
            listen(paths.monitorSocket(name), ctx.control().monitor(), l);
            listen(paths.qmpSocket(name), ctx.control().qmp(), l);
            if (ctx.control().serial() >= 0) {
                listen(paths.serialSocket(name), ctx.control().serial(), l);
            }
            if (ctx.control().guestAgent() >= 0) {
                listen(paths.guestAgentSocket(name), ctx.control().guestAgent(), l);
            }
        }
    }

    private void configureNics(Launch l, Instance instance, KvmRuntime runtime, String incoming)
            throws HypervisorException {
        for (int i = 0; i < runtime.nics().size(); i++) {
            Nic nic = runtime.nics().get(i);
            // on a migration target routed NICs wait for finalize, so routes never exist twice
            if (incoming == null || nic.mode() == NicMode.BRIDGED) {
                nics.configure(instance, i, nic, l.tapNames.get(i));
            }
        }
    }

    /** How much of QEMU's {@code -D} log a failed start shows: its last lines, from its last bytes. */
    static final int LOG_TAIL_BYTES = 4096;
    static final int LOG_TAIL_LINES = 12;

    /**
     * The last lines of QEMU's own log for a failed start's error, null when there are none: a
     * daemonized QEMU writes its stderr there, so what it said after forking (e.g. "invalid
     * kernel header") is nowhere else. The log lies in a directory another uid may write to:
     * read without following links, bounded.
     */
    private String qemuLogTail(String name) {
        String tail;
        try {
            tail = org.hvkit.kvm.internal.runtime.SafeFiles.tail(paths.qemuLog(name), LOG_TAIL_BYTES, LOG_TAIL_LINES)
                    .strip();
        } catch (java.nio.file.NoSuchFileException none) {
            return null;
        } catch (IOException | RuntimeException r) {
            LOG.debug("Reading the QEMU log of {}: {}", name, r.toString());
            return null;
        }
        return tail.isEmpty() ? null : tail;
    }

    /** Spawns QEMU with the descriptors, waits for it to daemonize, returns the daemon's pid. */
    private long spawn(Launch l, String name, List<String> argv) throws HypervisorException {
        // QEMU (root, before -runas) opens its -D log by name: nothing planted there may be followed
        step("remove the old QEMU log", () -> Files.deleteIfExists(paths.confined(paths.qemuLog(name))));
        // a pid file after this spawn is this launch's: undo trusts it to find a daemon the spawn left
        step("remove the old pid file", () -> Files.deleteIfExists(paths.confined(paths.pidFile(name))));
        Map<String, String> env = new LinkedHashMap<>(System.getenv());
        env.put("LC_ALL", "C");
        ArgvLimits.check(name, argv, env);
        SpawnResult r = step("run " + argv.get(0), () -> spawner.run(new SpawnRequest(argv, env, Path.of("/"),
                l.mappings), launchTimeout));
        if (!r.succeeded()) {
            String why = r.timedOut() ? "QEMU did not finish starting within " + launchTimeout.toSeconds() + " s, "
                    + r.failReason() : r.failReason();
            throw new HypervisorException("Failed to start instance " + name + ": " + why + " (" + r.output() + ")");
        }
        long pid = QemuProcesses.readPid(paths.pidFile(name));
        if (processes.alive(pid, name).isEmpty()) {
            throw new HypervisorException("Failed to start instance " + name + ": QEMU exited right after start ("
                    + r.output() + ")");
        }
        return pid;
    }

    /** Binds a listening socket at {@code path} (any length) that QEMU gets as descriptor {@code childFd}. */
    private void listen(Path path, int childFd, Launch l) throws HypervisorException {
        NativeFd fd = step("bind the socket " + path, () -> UnixSocket.listen(paths.confined(path), 16));
        l.sockets.add(fd);
        l.mappings.add(new FdMapping(fd, childFd));
    }

    /**
     * The first words on the instance's monitor while the guest is stopped (passwords, then
     * {@code cpu_mask} pinning: Ganeti 3.0 pins before it resumes too), then {@code cont}; the
     * connection stays open for the driver's later use. Reboots and migration targets come
     * through here as well (a target pins before any migration data arrives; its vCPU threads
     * are the ones the guest keeps after finalize).
     */
    private void afterLaunch(String name, long pid, Map<String, Object> confHv, QemuCapabilities caps, boolean spice,
                             CpuPinning.Plan pin, boolean stayPaused) throws HypervisorException {
        if (!caps.has(QemuFeature.QMP)) {
            return;
        }
        monitors.call(name, paths.qmpSocket(name), pid, qmp -> {
            String pwFile = KvmParameters.str(confHv, KvmParameters.VNC_PASSWORD_FILE);
            if (!pwFile.isEmpty()) {
                qmp.execute("set_password", Map.of("protocol", "vnc", "password",
                        readPassword("VNC", Path.of(pwFile))));
            }
            // without a password file SPICE runs with disable-ticketing; with one, it refuses clients until this
            // (only where this command has SPICE: a saved runtime from before the change may not)
            String spicePwFile = KvmParameters.str(confHv, KvmParameters.SPICE_PASSWORD_FILE);
            if (spice && !spicePwFile.isEmpty()) {
                qmp.execute("set_password", Map.of("protocol", "spice", "password",
                        readPassword("SPICE", Path.of(spicePwFile))));
            }
            pinning.apply(pin, pid, qmp, caps);
            if (!stayPaused) {
                qmp.execute("cont", Map.of());
            }
            return null;
        });
    }

    /** Ganeti's one-liner file ({@code utils.ReadOneLineFile(..., strict=True)}): exactly one non-empty line. */
    /** A password file is one line; anything longer than this is not one. */
    static final int MAX_PASSWORD_FILE = 4096;

    static String readPassword(String kind, Path file) throws HypervisorException {
        List<String> lines;
        try {
            // an operator's file (a link to a secrets directory is fine), still read as hostile: a regular
            // file, and bounded — a FIFO or /dev/zero named here must not hang or fill the JVM
            if (!Files.isRegularFile(file)) {
                throw new IOException("not a regular file");
            }
            byte[] b;
            try (java.io.InputStream in = Files.newInputStream(file)) {
                b = in.readNBytes(MAX_PASSWORD_FILE + 1);
            }
            if (b.length > MAX_PASSWORD_FILE) {
                throw new IOException("longer than " + MAX_PASSWORD_FILE + " bytes");
            }
            lines = new String(b, StandardCharsets.UTF_8).lines().map(String::strip).filter(l -> !l.isEmpty())
                    .toList();
        } catch (IOException e) {
            throw new HypervisorException("Failed to open " + kind + " password file " + file + ": " + e.getMessage(), e);
        }
        if (lines.size() != 1) {
            throw new HypervisorException(lines.isEmpty() ? "No data in one-liner file " + file
                    : "Too many lines in one-liner file " + file);
        }
        return lines.get(0);
    }

    /**
     * How long a failed start gives a QEMU it must take back to act on SIGTERM before SIGKILL
     * ({@link QemuProcesses#kill} then waits at most 10 s more for it to be gone).
     */
    static final Duration UNDO_KILL_GRACE = Duration.ofSeconds(5);

    /**
     * Undoes a failed launch: the QEMU process, the reserved uid, and the files of this run
     * (pid, uid and nic files, sockets, chroot directory) through the same cleaner as
     * {@code cleanupInstance}. The runtime file is the caller's (a reboot keeps it).
     *
     * <p>The QEMU is the one this launch spawned, or — when the spawn failed (its timeout, or any
     * failure after QEMU may have daemonized) — the one its pid file names: {@code -daemonize}
     * forks, {@code setsid()}s and forks again, and writes the pid file before it opens disks or
     * allocates memory, so a start that hits the launch timeout leaves a daemon in its own
     * session that the spawner's kill of the first child's process group does not reach. It is
     * killed only if {@code /proc/<pid>/cmdline} says it is this instance's QEMU. Its uid and pid
     * file go only once it is gone: a daemon that outlives the kill keeps both (its uid recorded
     * in the uid file, so that a stop and cleanup give it back), everything else stays too, and
     * the returned text says so for the error.
     *
     * @return what the error adds: that a QEMU found through its pid file was killed, or why the
     *         uid and files stay; null when there is nothing to add
     */
    private String undo(String name, long spawnedPid, ReservedUid uid) {
        // a pid file of this launch (spawn removes an older one) read bounded, as hostile input;
        // only a process that is this instance's QEMU counts: a pid read from a file may have been recycled
        long pid = spawnedPid > 0 ? spawnedPid : QemuProcesses.readPid(paths.pidFile(name));
        String note = null;
        if (pid > 0 && processes.alive(pid, name).isPresent()) {
            if (!processes.kill(pid, UNDO_KILL_GRACE) && processes.alive(pid, name).isPresent()) {
                return keepForSurvivor(name, pid, uid);
            }
            if (spawnedPid <= 0) {
                note = "the QEMU it had daemonized (pid " + pid + ") is killed";
                LOG.warn("Failed start of {}: {}", name, note);
            }
        }
        if (uid != null) {
            try {
                uid.release();
            } catch (UidPoolException e) {
                LOG.warn("Releasing uid {} after the failed start of {}: {}", uid.uid(), name, e.getMessage());
            }
        }
        try {
            // the uid went back above; the uid file (if written) names the same uid, so drop it first
            Files.deleteIfExists(paths.confined(paths.uidFile(name)));
            cleaner.releaseResources(name, null);
            cleaner.removeSockets(name);
            Files.deleteIfExists(paths.confined(paths.qemuLog(name)));
            Files.deleteIfExists(paths.confined(paths.pidFile(name)));
            Files.deleteIfExists(paths.confined(paths.chrootDir(name)));
        } catch (IOException | HypervisorException e) {
            LOG.warn("Cleaning up after the failed start of {}: {}", name, e.toString());
        }
        return note;
    }

    /**
     * A QEMU of the failed launch outlived SIGTERM and SIGKILL (a process in uninterruptible
     * sleep): it still holds its uid, taps and disks, so nothing it holds is given back. The uid
     * is recorded in the instance's uid file (a stop and cleanup release it once the process is
     * gone) and the pid file stays, so the instance still shows as running.
     */
    private String keepForSurvivor(String name, long pid, ReservedUid uid) {
        String uidNote = "";
        if (uid != null) {
            uidNote = " its uid " + uid.uid() + " stays taken,";
            try {
                store.saveUid(name, uid.uid());
            } catch (HypervisorException e) {
                uidNote = " its uid " + uid.uid() + " stays taken (not recorded: " + e.getMessage() + "),";
            }
            uid.unlock();
        }
        String text = "its QEMU (pid " + pid + ") did not exit within " + UNDO_KILL_GRACE.toSeconds()
                + " s of SIGTERM and 10 s of SIGKILL:" + uidNote + " its pid file " + paths.pidFile(name)
                + " and runtime files stay; stop and clean up the instance once the process is gone";
        LOG.error("Failed start of {}: {}", name, text);
        return text;
    }

    private interface Step<T> {
        T run() throws Exception;
    }

    /** Runs one step, turning any failure into "Failed to start instance: <step>: <reason>". */
    private static <T> T step(String what, Step<T> s) throws HypervisorException {
        try {
            return s.run();
        } catch (HypervisorException e) {
            throw e;
        } catch (UidPoolException | IOException e) {
            throw new HypervisorException("Failed to " + what + ": " + e.getMessage(), e);
        } catch (Exception e) {
            throw new HypervisorException("Failed to " + what + ": " + e, e);
        }
    }
}
