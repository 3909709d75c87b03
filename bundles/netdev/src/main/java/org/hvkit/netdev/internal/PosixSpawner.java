package org.hvkit.netdev.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.ptr.IntByReference;

import org.hvkit.netdev.FdMapping;
import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.ProcessSpawner;
import org.hvkit.netdev.SpawnRequest;
import org.hvkit.netdev.SpawnResult;
import org.osgi.service.component.annotations.Component;

/**
 * {@link ProcessSpawner} with {@code posix_spawn(3)}: glibc runs the child with
 * {@code CLONE_VM|CLONE_VFORK}, which is safe in a multi-threaded JVM (no fork of the heap),
 * and applies the file actions below between clone and exec. Why not a helper binary or
 * {@code fork} through JNA: posix_spawn needs no extra artifact and no code runs in the child
 * except libc's.
 *
 * <p>File actions, in order: stdin from /dev/null; stdout/stderr to pipes; each inherited
 * descriptor first duplicated above every number in play (so that no mapping overwrites a
 * source another mapping still needs), then onto its target number (dup2 clears
 * close-on-exec, even where the source already had the target number); the gaps below the
 * highest target closed; everything above it closed ({@code closefrom}); then chdir. The
 * child gets a new session, an empty signal mask and default signal dispositions. On timeout
 * its whole process group is killed.
 */
@Component(service = ProcessSpawner.class)
public final class PosixSpawner implements ProcessSpawner {

    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    private static final short POSIX_SPAWN_SETSID = 0x80;
    // glibc: posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, sigset_t 128
    private static final int FILE_ACTIONS_SIZE = 256;
    private static final int ATTR_SIZE = 512;
    private static final int SIGSET_SIZE = 128;
    private static final int SIGKILL = 9;
    private static final int MAX_OUTPUT = 1 << 20;
    /** How long to keep reading output after the child exited (a daemon may still hold the pipes). */
    private static final long DRAIN_AFTER_EXIT_NANOS = 300_000_000L;
    private static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    @Override
    public SpawnResult run(SpawnRequest request, Duration timeout) throws NativeException {
        String program = resolve(request.argv().get(0), request.environment());
        int[] out = {-1, -1};
        int[] err = {-1, -1};
        int pid;
        try {
            LibC.check(LibC.INSTANCE.pipe2(out, LibC.O_CLOEXEC), "pipe");
            LibC.check(LibC.INSTANCE.pipe2(err, LibC.O_CLOEXEC), "pipe");
            pid = spawn(program, request, out[1], err[1]);
        } catch (NativeException | RuntimeException e) {
            closeAll(out[0], out[1], err[0], err[1]);
            throw e;
        }
        closeAll(out[1], err[1]);
        try {
            return collect(pid, out[0], err[0], timeout);
        } finally {
            closeAll(out[0], err[0]);
        }
    }

    private static int spawn(String program, SpawnRequest request, int stdoutFd, int stderrFd) throws NativeException {
        LibC c = LibC.INSTANCE;
        Memory actions = new Memory(FILE_ACTIONS_SIZE);
        Memory attr = new Memory(ATTR_SIZE);
        Memory sigs = new Memory(SIGSET_SIZE);
        spawnCheck(c.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
        try {
            spawnCheck(c.posix_spawnattr_init(attr), "posix_spawnattr_init");
            try {
                List<FdMapping> fds = request.fds();
                spawnCheck(c.posix_spawn_file_actions_addopen(actions, 0, "/dev/null", LibC.O_RDONLY, 0), "stdin");
                spawnCheck(c.posix_spawn_file_actions_adddup2(actions, stdoutFd, 1), "stdout");
                spawnCheck(c.posix_spawn_file_actions_adddup2(actions, stderrFd, 2), "stderr");
                int base = Math.max(stdoutFd, stderrFd);
                int maxChild = 2;
                Set<Integer> targets = new HashSet<>();
                for (FdMapping m : fds) {
                    base = Math.max(base, Math.max(m.fd().fd(), m.childFd()));
                    maxChild = Math.max(maxChild, m.childFd());
                    targets.add(m.childFd());
                }
                base++;
                for (int i = 0; i < fds.size(); i++) {
                    spawnCheck(c.posix_spawn_file_actions_adddup2(actions, fds.get(i).fd().fd(), base + i), "dup2");
                }
                for (int i = 0; i < fds.size(); i++) {
                    spawnCheck(c.posix_spawn_file_actions_adddup2(actions, base + i, fds.get(i).childFd()), "dup2");
                }
                for (int fd = 3; fd < maxChild; fd++) {
                    if (!targets.contains(fd)) {
                        // glibc ignores EBADF here: closing a number that is not open is fine
                        spawnCheck(c.posix_spawn_file_actions_addclose(actions, fd), "close");
                    }
                }
                spawnCheck(c.posix_spawn_file_actions_addclosefrom_np(actions, maxChild + 1), "closefrom");
                spawnCheck(c.posix_spawn_file_actions_addchdir_np(actions, request.workDir().toString()), "chdir");
                c.sigemptyset(sigs);
                spawnCheck(c.posix_spawnattr_setsigmask(attr, sigs), "sigmask");
                c.sigfillset(sigs);
                spawnCheck(c.posix_spawnattr_setsigdefault(attr, sigs), "sigdefault");
                spawnCheck(c.posix_spawnattr_setflags(attr,
                        (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID)), "flags");

                String[] argv = request.argv().toArray(new String[0]);
                String[] envp = request.environment().entrySet().stream()
                        .map(e -> e.getKey() + "=" + e.getValue()).toArray(String[]::new);
                IntByReference pid = new IntByReference();
                int rc = c.posix_spawn(pid, program, actions, attr, argv, envp);
                if (rc != 0) {
                    throw LibC.error("Cannot run " + program, rc);
                }
                return pid.getValue();
            } finally {
                c.posix_spawnattr_destroy(attr);
            }
        } finally {
            c.posix_spawn_file_actions_destroy(actions);
        }
    }

    private static SpawnResult collect(int pid, int outFd, int errFd, Duration timeout) throws NativeException {
        LibC c = LibC.INSTANCE;
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        Memory pollfds = new Memory(16);
        pollfds.setInt(0, outFd);
        pollfds.setShort(4, (short) LibC.POLLIN);
        pollfds.setInt(8, errFd);
        pollfds.setShort(12, (short) LibC.POLLIN);
        Memory buf = new Memory(65536);
        IntByReference status = new IntByReference();
        long deadline = System.nanoTime() + timeout.toNanos();
        long exitedAt = 0;
        boolean exited = false;
        boolean timedOut = false;
        int open = 2;
        // both pipes at EOF but the child not yet reapable: exit closes the descriptors a moment
        // before the zombie appears, so look again after 1 ms, then back off (a child that closed
        // its output and runs on must not make this loop spin)
        int idleWaitMillis = 1;
        while (true) {
            if (!exited && reap(pid, status, LibC.WNOHANG)) {
                exited = true;
                exitedAt = System.nanoTime();
            }
            if (exited && (open == 0 || System.nanoTime() - exitedAt > DRAIN_AFTER_EXIT_NANOS)) {
                break;
            }
            if (!exited && System.nanoTime() > deadline) {
                // the child leads its own session and process group: kill the group, so that
                // what a hung script started (a `sleep` …) dies with it instead of living on and
                // holding the output pipes. Safe before the reap: until then the child's pid,
                // and so the group's id, cannot be reused. A child that exits by itself keeps its
                // group alive (a daemon it left behind is the point of DRAIN_AFTER_EXIT).
                c.kill(-pid, SIGKILL);
                reap(pid, status, 0);
                exited = true;
                timedOut = true;
                exitedAt = System.nanoTime();
            }
            pollfds.setShort(6, (short) 0);
            pollfds.setShort(14, (short) 0);
            int waitMillis = 50;
            if (open == 0) {
                waitMillis = idleWaitMillis;
                idleWaitMillis = Math.min(20, idleWaitMillis * 2);
            }
            int ready = c.poll(pollfds, new NativeLong(2), waitMillis);
            if (ready == -1 && Native.getLastError() != LibC.EINTR) {
                throw LibC.error("poll on the output of pid " + pid, Native.getLastError());
            }
            for (int slot = 0; slot < 2 && ready > 0; slot++) {
                int fd = pollfds.getInt(slot * 8L);
                if (fd < 0 || pollfds.getShort(slot * 8L + 6) == 0) {
                    continue;
                }
                long n = c.read(fd, buf, new NativeLong(buf.size())).longValue();
                if (n > 0) {
                    ByteArrayOutputStream target = slot == 0 ? stdout : stderr;
                    if (target.size() < MAX_OUTPUT) {
                        target.write(buf.getByteArray(0, (int) Math.min(n, MAX_OUTPUT - target.size())), 0,
                                (int) Math.min(n, MAX_OUTPUT - target.size()));
                    }
                } else if (n == 0 || Native.getLastError() != LibC.EINTR) {
                    pollfds.setInt(slot * 8L, -1); // EOF: poll ignores negative descriptors
                    open--;
                }
            }
        }
        int st = status.getValue();
        int signal = st & 0x7f;
        int exitCode = signal == 0 ? (st >> 8) & 0xff : -1;
        return new SpawnResult(pid, exitCode, signal, timedOut,
                stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
    }

    /** waitpid; true when the child was reaped. */
    private static boolean reap(int pid, IntByReference status, int options) throws NativeException {
        while (true) {
            int r = LibC.INSTANCE.waitpid(pid, status, options);
            if (r == pid) {
                return true;
            }
            if (r == 0) {
                return false;
            }
            int errno = Native.getLastError();
            if (errno != LibC.EINTR) {
                throw LibC.error("waitpid " + pid, errno);
            }
        }
    }

    /** The program to execute: as given when it has a '/', else the first executable on PATH. */
    static String resolve(String program, Map<String, String> env) throws NativeException {
        if (program.contains("/")) {
            return program;
        }
        String path = env.getOrDefault("PATH", DEFAULT_PATH);
        for (String dir : path.split(":")) {
            if (!dir.isEmpty()) {
                Path candidate = Path.of(dir, program);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return candidate.toString();
                }
            }
        }
        throw new NativeException("Cannot run " + program + ": not found in PATH (" + path + ")", LibC.ENOENT);
    }

    private static void spawnCheck(int rc, String what) throws NativeException {
        if (rc != 0) {
            throw LibC.error("posix_spawn " + what, rc);
        }
    }

    private static void closeAll(int... fds) {
        for (int fd : fds) {
            LibC.closeQuietly(fd);
        }
    }
}
