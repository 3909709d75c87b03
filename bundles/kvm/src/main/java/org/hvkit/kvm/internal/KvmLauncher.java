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

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.kvm.internal.argv.ExecutionContext;
import org.hvkit.kvm.internal.argv.KvmArgvBuilder;
import org.hvkit.kvm.internal.argv.KvmRuntime;
import org.hvkit.kvm.internal.argv.RuntimePaths;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.caps.QemuFeature;
import org.hvkit.kvm.internal.network.NicConfigurator;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.process.Accounts;
import org.hvkit.kvm.internal.process.QemuProcesses;
import org.hvkit.hypervisor.AtomicFiles;
import org.hvkit.netdev.FdMapping;
import org.hvkit.netdev.ProcessSpawner;
import org.hvkit.netdev.SpawnRequest;
import org.hvkit.netdev.SpawnResult;
import org.hvkit.netdev.Tap;
import org.hvkit.netdev.TapDevices;
import org.hvkit.uidpool.ReservedUid;
import org.hvkit.uidpool.UidPool;
import org.hvkit.uidpool.UidPoolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ganeti's {@code _ExecuteKVMRuntime} (SPEC c.2): taps, uid, chroot, NIC setup, launch through
 * netdev's spawner with the tap descriptors at the numbers written into argv, nic and uid
 * files, VNC password and {@code cont} over QMP. Any failure undoes everything done so far —
 * the QEMU process, taps, uid lock, nic and uid files — and names the step (SPEC k.10).
 */
final class KvmLauncher {

    private static final Logger LOG = LoggerFactory.getLogger(KvmLauncher.class);
    private static final int FIRST_CHILD_FD = 3;

    private final Path kvmPath;
    private final RuntimePaths paths;
    private final KvmArgvBuilder builder;
    private final ProcessSpawner spawner;
    private final TapDevices taps;
    private final NicConfigurator nics;
    private final QemuProcesses processes;
    private final Accounts accounts;
    private final Duration launchTimeout;
    private final Monitors monitors;

    KvmLauncher(Path kvmPath, RuntimePaths paths, ProcessSpawner spawner, TapDevices taps, NicConfigurator nics,
                QemuProcesses processes, Accounts accounts, Monitors monitors, Duration launchTimeout) {
        this.kvmPath = kvmPath;
        this.paths = paths;
        this.builder = new KvmArgvBuilder(kvmPath, paths);
        this.spawner = spawner;
        this.taps = taps;
        this.nics = nics;
        this.processes = processes;
        this.accounts = accounts;
        this.launchTimeout = launchTimeout;
        this.monitors = monitors;
    }

    KvmArgvBuilder builder() {
        return builder;
    }

    /** Configures one NIC (used for the NICs a migration target deferred to finalize). */
    void configureNic(Instance instance, int seq, Nic nic, String tap) throws HypervisorException {
        nics.configure(instance, seq, nic, tap);
    }

    /** The final argv without running anything (taps at the numbers they would get). */
    List<String> preview(KvmRuntime runtime, Map<String, Object> confHv, QemuCapabilities caps, String poolUser)
            throws HypervisorException {
        List<Integer> fds = new ArrayList<>();
        for (int i = 0; i < runtime.nics().size(); i++) {
            fds.add(FIRST_CHILD_FD + i);
        }
        return builder.execute(runtime, confHv, caps, new ExecutionContext(fds, poolUser, null, true));
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
        Map<String, Object> up = new LinkedHashMap<>(confHv);
        up.putAll(runtime.hvparams());
        List<Tap> open = new ArrayList<>();
        ReservedUid uid = null;
        long pid = 0;
        boolean filesWritten = false;
        try {
            boolean vnetHdr = "paravirtual".equals(KvmParameters.str(up, KvmParameters.NIC_TYPE))
                    && caps.has(QemuFeature.NETDEV);
            List<Integer> fds = new ArrayList<>();
            List<FdMapping> mappings = new ArrayList<>();
            for (int i = 0; i < runtime.nics().size(); i++) {
                Tap t = step("open a tap for NIC " + i, () -> taps.open(null, vnetHdr));
                open.add(t);
                fds.add(FIRST_CHILD_FD + i);
                mappings.add(new FdMapping(t.fd(), FIRST_CHILD_FD + i));
            }
            String poolUser = null;
            if ("pool".equals(KvmParameters.str(confHv, KvmParameters.SECURITY_MODEL))) {
                if (pool == null) {
                    throw new HypervisorException("Failed to start instance " + name + ": security_model is pool but"
                            + " no uid pool is configured (etc/org.hvkit.uidpool.cfg)");
                }
                uid = step("reserve a uid", pool::reserve);
                long u = uid.uid();
                poolUser = accounts.userName(u).orElseThrow(() -> new HypervisorException("Failed to start instance "
                        + name + ": uid " + u + " of the pool has no passwd entry (QEMU's -runas needs a user name)"));
            }
            if (KvmParameters.bool(confHv, KvmParameters.USE_CHROOT)) {
                Path dir = paths.chrootDir(name);
                step("create the chroot directory", () -> {
                    Files.createDirectories(dir);
                    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
                    return dir;
                });
            }
            List<String> argv = builder.execute(runtime, confHv, caps,
                    new ExecutionContext(fds, poolUser, incoming, startPaused));
            for (int i = 0; i < runtime.nics().size(); i++) {
                Nic nic = runtime.nics().get(i);
                // on a migration target routed NICs wait for finalize, so routes never exist twice
                if (incoming == null || nic.mode() == NicMode.BRIDGED) {
                    nics.configure(instance, i, nic, open.get(i).name());
                }
            }
            Map<String, String> env = new LinkedHashMap<>(System.getenv());
            env.put("LC_ALL", "C");
            SpawnResult r = step("run " + kvmPath, () -> spawner.run(new SpawnRequest(argv, env, Path.of("/"), mappings),
                    launchTimeout));
            if (!r.succeeded()) {
                throw new HypervisorException("Failed to start instance " + name + ": " + r.failReason() + " ("
                        + r.output() + ")");
            }
            pid = QemuProcesses.readPid(paths.pidFile(name));
            if (processes.alive(pid, name).isEmpty()) {
                throw new HypervisorException("Failed to start instance " + name + ": QEMU exited right after start ("
                        + r.output() + ")");
            }
            filesWritten = true;
            writeNicFiles(name, open);
            if (uid != null) {
                writeUidFile(name, uid.uid());
                uid.unlock();
            }
            afterLaunch(name, pid, confHv, caps, incoming != null || startPaused);
            LOG.info("Instance {} started, pid {}", name, pid);
            return pid;
        } catch (HypervisorException | RuntimeException e) {
            monitors.forget(name);
            undo(name, pid, uid, filesWritten);
            throw e;
        } finally {
            // QEMU holds its own copies now (or nobody does, after a failure)
            open.forEach(Tap::close);
        }
    }

    /** The first words on the instance's monitor; its connection stays open for the driver's later use. */
    private void afterLaunch(String name, long pid, Map<String, Object> confHv, QemuCapabilities caps,
                             boolean stayPaused) throws HypervisorException {
        if (!caps.has(QemuFeature.QMP)) {
            return;
        }
        monitors.call(name, paths.qmpSocket(name), pid, qmp -> {
            String pwFile = KvmParameters.str(confHv, KvmParameters.VNC_PASSWORD_FILE);
            if (!pwFile.isEmpty()) {
                qmp.execute("set_password", Map.of("protocol", "vnc", "password", readVncPassword(Path.of(pwFile))));
            }
            if (!stayPaused) {
                qmp.execute("cont", Map.of());
            }
            return null;
        });
    }

    /** Ganeti's one-liner file: exactly one non-empty line (SPEC b.2 #11). */
    static String readVncPassword(Path file) throws HypervisorException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8).stream().map(String::strip)
                    .filter(l -> !l.isEmpty()).toList();
        } catch (IOException e) {
            throw new HypervisorException("Failed to open VNC password file " + file + ": " + e.getMessage(), e);
        }
        if (lines.size() != 1) {
            throw new HypervisorException(lines.isEmpty() ? "No data in one-liner file " + file
                    : "Too many lines in one-liner file " + file);
        }
        return lines.get(0);
    }

    private void writeNicFiles(String name, List<Tap> open) throws HypervisorException {
        Path dir = paths.nicDir(name);
        try {
            Files.createDirectories(dir);
            for (int i = 0; i < open.size(); i++) {
                AtomicFiles.write(dir.resolve(Integer.toString(i)), open.get(i).name());
            }
        } catch (IOException e) {
            throw new HypervisorException("Failed to write the nic files of " + name + ": " + e, e);
        }
    }

    private void writeUidFile(String name, long uid) throws HypervisorException {
        try {
            AtomicFiles.write(paths.uidFile(name), Long.toString(uid));
        } catch (IOException e) {
            throw new HypervisorException("Failed to write the uid file of " + name + ": " + e, e);
        }
    }

    private void undo(String name, long pid, ReservedUid uid, boolean filesWritten) {
        if (pid > 0) {
            processes.kill(pid, Duration.ofSeconds(5));
        }
        try {
            Files.deleteIfExists(paths.pidFile(name));
            if (filesWritten) {
                Files.deleteIfExists(paths.uidFile(name));
                Path dir = paths.nicDir(name);
                if (Files.isDirectory(dir)) {
                    try (var s = Files.list(dir)) {
                        for (Path p : (Iterable<Path>) s::iterator) {
                            Files.deleteIfExists(p);
                        }
                    }
                    Files.deleteIfExists(dir);
                }
            }
            Files.deleteIfExists(paths.chrootDir(name));
        } catch (IOException e) {
            LOG.warn("Cleaning up after the failed start of {}: {}", name, e.toString());
        }
        if (uid != null) {
            try {
                uid.release();
            } catch (UidPoolException e) {
                LOG.warn("Releasing uid {} after the failed start of {}: {}", uid.uid(), name, e.getMessage());
            }
        }
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
