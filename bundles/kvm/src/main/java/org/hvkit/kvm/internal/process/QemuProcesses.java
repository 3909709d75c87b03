package org.hvkit.kvm.internal.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import org.hvkit.kvm.internal.runtime.SafeFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ganeti's liveness primitive ({@code _InstancePidAlive}) with hvkit's fixes
 * (docs/ganeti-behaviour.md, "Liveness and kill"): the pid from the
 * pid file, alive only if {@code /proc/<pid>/cmdline} carries {@code -name <name>} (so a
 * recycled pid running something else is not mistaken for the instance) and the process is
 * not a zombie; an empty or garbage pid file means "absent" with a warning.
 */
public final class QemuProcesses {

    private static final Logger LOG = LoggerFactory.getLogger(QemuProcesses.class);

    private static final int MAX_PID_FILE = 64;
    /** The kernel reports CPU times in USER_HZ ticks, 100 per second on Linux. */
    private static final double TICKS_PER_SECOND = 100.0;

    private final Path proc;

    public QemuProcesses() {
        this(Path.of("/proc"));
    }

    QemuProcesses(Path proc) {
        this.proc = proc;
    }

    /** The pid in {@code pidFile}, 0 when missing, empty, not a number or not a small regular file. */
    public static long readPid(Path pidFile) {
        String text;
        try {
            text = SafeFiles.read(pidFile, MAX_PID_FILE);
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            LOG.warn("Cannot read pid file {}: {}", pidFile, e.toString());
            return 0;
        }
        String first = text.lines().map(String::trim).filter(l -> !l.isEmpty()).findFirst().orElse("");
        if (first.isEmpty()) {
            LOG.warn("Pid file {} is empty: treating the instance as not running", pidFile);
            return 0;
        }
        try {
            long pid = Long.parseLong(first);
            return pid > 0 ? pid : 0;
        } catch (NumberFormatException e) {
            LOG.warn("Pid file {} holds '{}', not a pid: treating the instance as not running", pidFile, first);
            return 0;
        }
    }

    /** The live QEMU process of instance {@code name} with pid {@code pid}, if that is what runs there. */
    public Optional<QemuProcess> alive(long pid, String name) {
        if (pid <= 0) {
            return Optional.empty();
        }
        byte[] raw;
        try {
            raw = Files.readAllBytes(proc.resolve(Long.toString(pid)).resolve("cmdline"));
        } catch (IOException e) {
            return Optional.empty();
        }
        if (raw.length == 0) {
            return Optional.empty(); // a zombie (its memory, and so its command line, is gone) or a kernel thread
        }
        String[] argv = new String(raw, StandardCharsets.UTF_8).split("\0");
        boolean named = false;
        long memory = 0;
        int vcpus = 0;
        for (int i = 0; i + 1 < argv.length; i++) {
            String v = argv[i + 1];
            switch (argv[i]) {
                case "-name": named = firstPart(v).equals(name); break;
                case "-m": memory = parseLong(firstPart(v).replaceAll("[^0-9].*$", "")); break;
                case "-smp": vcpus = (int) parseLong(firstPart(v)); break;
                default: break;
            }
        }
        // a killed multi-threaded QEMU: its leader is a zombie while other threads still hold the memory
        return named && !isZombieOrGone(pid) ? Optional.of(new QemuProcess(pid, memory, vcpus)) : Optional.empty();
    }

    private static String firstPart(String v) {
        int c = v.indexOf(',');
        return c < 0 ? v : v.substring(0, c);
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * What {@code /proc/<pid>/stat} says of a process.
     *
     * @param state      the state letter: R, S, D, T (stopped by a signal), t, Z, X …
     * @param cpuSeconds user plus system CPU time
     */
    public record Stat(char state, double cpuSeconds) {
        /** Stopped by a signal (SIGSTOP) or a tracer: it answers nothing until continued. */
        public boolean stopped() {
            return state == 'T' || state == 't';
        }

        public boolean dead() {
            return state == 'Z' || state == 'X';
        }
    }

    /** The process' state and CPU time, empty when it is gone. */
    public Optional<Stat> stat(long pid) {
        String s;
        try {
            s = Files.readString(proc.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return Optional.empty();
        }
        // "pid (comm) S ppid …": comm may contain spaces and parentheses, so split after the last ')'
        int close = s.lastIndexOf(')');
        if (close < 0 || close + 2 >= s.length()) {
            return Optional.empty();
        }
        String[] f = s.substring(close + 2).trim().split(" ");
        // fields after comm: [0]=state … [11]=utime [12]=stime (proc(5) fields 14 and 15)
        double cpu = 0;
        if (f.length > 12) {
            cpu = (parseLong(f[11]) + parseLong(f[12])) / TICKS_PER_SECOND;
        }
        return Optional.of(new Stat(f[0].isEmpty() ? '?' : f[0].charAt(0), cpu));
    }

    /**
     * A daemonized QEMU is re-parented to PID 1, which may reap it seconds late; until then it is
     * a zombie that {@code kill -0} calls alive. Ganeti waited ≈1.8 s for that; hvkit reads the
     * state instead.
     */
    public boolean isZombieOrGone(long pid) {
        return stat(pid).map(s -> s.dead() && threadsGone(pid)).orElse(true);
    }

    /**
     * A killed multi-threaded process' leader turns zombie before its other threads have exited;
     * until they have, QEMU still holds its image locks and taps (a new QEMU of the same
     * instance would fail with "Failed to get write lock"). Dead means every thread is.
     */
    private boolean threadsGone(long pid) {
        try (java.util.stream.Stream<Path> tasks = Files.list(proc.resolve(Long.toString(pid)).resolve("task"))) {
            return tasks.allMatch(t -> {
                try {
                    String st = Files.readString(t.resolve("stat"), StandardCharsets.US_ASCII);
                    char state = st.charAt(st.lastIndexOf(')') + 2);
                    return state == 'Z' || state == 'X';
                } catch (IOException | RuntimeException gone) {
                    return true;
                }
            });
        } catch (IOException gone) {
            return true;
        }
    }

    /**
     * Kills {@code pid}: SIGTERM, then polls (10 ms, ×1.5, at most 100 ms apart) for up to
     * {@code grace}, then SIGKILL and waits again (at most 10 s). A process stopped by SIGSTOP
     * cannot act on SIGTERM until continued, so it gets SIGKILL at once. Returns whether it is gone.
     */
    public boolean kill(long pid, Duration grace) {
        boolean stopped = stat(pid).map(Stat::stopped).orElse(false);
        if (!stopped) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            if (waitGone(pid, grace, () -> false)) {
                return true;
            }
            LOG.warn("Process {} did not exit within {} of SIGTERM: sending SIGKILL", pid, grace);
        } else {
            LOG.warn("Process {} is stopped (SIGSTOP): sending SIGKILL", pid);
        }
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        return waitGone(pid, Duration.ofSeconds(10), () -> false);
    }

    /**
     * Waits with backoff until {@code pid} is gone or a zombie, at most {@code timeout}, or
     * until {@code cancelled} says so. Returns whether it is gone.
     */
    public boolean waitGone(long pid, Duration timeout, java.util.function.BooleanSupplier cancelled) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long sleep = 10;
        while (!isZombieOrGone(pid)) {
            if (System.nanoTime() > deadline || cancelled.getAsBoolean()) {
                return false;
            }
            try {
                Thread.sleep(sleep);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return isZombieOrGone(pid);
            }
            sleep = Math.min(100, (long) (sleep * 1.5));
        }
        return true;
    }
}
