package org.hvkit.kvm.internal.caps;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.monitor.QmpClient;
import org.hvkit.kvm.internal.monitor.QmpException;
import org.hvkit.kvm.internal.process.QemuProcesses;
import org.hvkit.kvm.internal.runtime.SafeFiles;
import org.hvkit.netdev.FdMapping;
import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.NativeFd;
import org.hvkit.netdev.ProcessSpawner;
import org.hvkit.netdev.SpawnRequest;
import org.hvkit.netdev.SpawnResult;
import org.hvkit.netdev.UnixSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks a QEMU binary about itself over QMP, as libvirt's capability probing does: the binary
 * runs once with {@code -machine none -S} (no guest, no devices, no disks), daemonized, with its
 * QMP monitor on a socket this class binds and hands over; {@link QmpFacts} are read from six
 * queries (seven where the binary has {@code query-qmp-schema}), then the process is told to {@code quit} and, if it does not go within a bound,
 * killed by its pid. Nothing of the probe is left in the work directory.
 */
final class QmpProbe {

    private static final Logger LOG = LoggerFactory.getLogger(QmpProbe.class);
    private static final AtomicLong SEQUENCE = new AtomicLong();
    /** The descriptor number the listening QMP socket gets in the probe process. */
    private static final int QMP_FD = 3;
    private static final Duration START = Duration.ofSeconds(30);
    private static final Duration CONNECT = Duration.ofSeconds(10);
    private static final Duration EXIT = Duration.ofSeconds(5);

    private final ProcessSpawner spawner;
    private final QemuProcesses processes;
    private final Path workDir;

    QmpProbe(ProcessSpawner spawner, QemuProcesses processes, Path workDir) {
        this.spawner = spawner;
        this.processes = processes;
        this.workDir = workDir;
    }

    /** Probes {@code binary}, whose {@code --help} gave {@code help} (which spelling of the monitor it takes). */
    QmpFacts probe(Path binary, QemuCapabilities help) throws HypervisorException {
        String base = "probe-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
        Path socket = workDir.resolve(base + ".qmp");
        Path pidFile = workDir.resolve(base + ".pid");
        List<String> argv = new ArrayList<>(List.of(binary.toString(), "-machine", "none", "-nodefaults", "-S",
                "-daemonize", "-pidfile", pidFile.toString()));
        argv.addAll(help.has(QemuFeature.DISPLAY) ? List.of("-display", "none") : List.of("-nographic"));
        long pid = -1;
        NativeFd listening = null;
        try {
            List<FdMapping> fds = List.of();
            if (help.socketDescriptors()) {
                listening = UnixSocket.listen(socket, 1);
                fds = List.of(new FdMapping(listening, QMP_FD));
                argv.addAll(List.of("-chardev", "socket,id=qmp,fd=" + QMP_FD + ",server=on,wait=off",
                        "-mon", "chardev=qmp,mode=control"));
            } else {
                // QEMU 1.2 to 2.11 bind the socket themselves (the work directory is short: under root.dir)
                argv.addAll(List.of("-qmp", "unix:" + socket + ",server,nowait"));
            }
            SpawnResult r = spawner.run(new SpawnRequest(argv, Map.of("LC_ALL", "C"), Path.of("/"), fds), START);
            if (!r.succeeded()) {
                throw new HypervisorException("Probing " + binary + " over QMP failed: " + r.failReason() + " ("
                        + r.output().strip() + ")");
            }
            pid = readPid(pidFile);
            if (processes.isZombieOrGone(pid)) {
                throw new HypervisorException("Probing " + binary + " over QMP failed: it exited right after start ("
                        + r.output().strip() + ")");
            }
            try (QmpClient qmp = QmpClient.connect(socket, CONNECT)) {
                QmpFacts facts = QmpFacts.from(qmp.execute("query-version", Map.of()),
                        qmp.execute("query-commands", Map.of()), qmp.execute("query-machines", Map.of()),
                        qmp.execute("qom-list-types", Map.of("implements", "device", "abstract", false)),
                        qmp.execute("query-command-line-options", Map.of()),
                        qmp.execute("query-kvm", Map.of()));
                if (facts.commands().contains("query-qmp-schema")) { // QEMU 2.5 and later
                    facts = facts.withAioModes(QmpFacts.aioModes(qmp.execute("query-qmp-schema", Map.of())));
                }
                quit(qmp);
                return facts;
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new HypervisorException("Probing " + binary + " over QMP failed: " + e.getMessage(), e);
        } finally {
            if (listening != null) {
                listening.close();
            }
            reap(pid);
            deleteQuietly(socket);
            deleteQuietly(pidFile);
        }
    }

    private static long readPid(Path pidFile) throws IOException {
        String text = SafeFiles.read(pidFile, 32).strip();
        try {
            long pid = Long.parseLong(text);
            if (pid < 2) {
                throw new NumberFormatException();
            }
            return pid;
        } catch (NumberFormatException e) {
            throw new IOException("the probe's pid file " + pidFile + " holds no pid: '" + text + "'");
        }
    }

    private static void quit(QmpClient qmp) {
        try {
            qmp.execute("quit", Map.of());
        } catch (QmpException e) {
            // the connection may close before the answer arrives: the exit is what counts
            LOG.debug("quit: {}", e.getMessage());
        }
    }

    /** Waits (bounded) for the probe process to go, then kills it by its pid. */
    private void reap(long pid) {
        if (pid > 0 && !processes.waitGone(pid, EXIT, () -> false)) {
            LOG.warn("The QMP probe (pid {}) did not quit within {}; killing it", pid, EXIT);
            processes.kill(pid, Duration.ofSeconds(1));
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.warn("Cannot remove {}: {}", p, e.getMessage());
        }
    }
}
