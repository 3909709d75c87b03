package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.uidpool.UidPool;
import org.junit.jupiter.api.function.Executable;

/**
 * What every fault case works with: a KVM node whose root.dir has a comma in it (so every path
 * the driver builds is escaped or it fails), a uid pool of two real users, a bystander guest
 * that must keep running through every case, and helpers to inject faults. The leak account
 * ({@link #account()}) is what the harness compares before and after each case.
 */
final class FaultBench {

    static final String BYSTANDER = "bystander";

    final Path tmp;
    final Path root;
    final UidPool pool;
    final KvmHypervisor node;
    private final Deque<AutoCloseable> deferred = new ArrayDeque<>();
    private int names;

    FaultBench(Path tmp, UidPool pool) throws Exception {
        this.tmp = tmp;
        this.root = tmp.resolve("kvm,root");
        this.pool = pool;
        this.node = node(KvmTestNode.settings("node-a", root, KvmTestNode.QEMU, false, null));
    }

    /** A KVM node (closed after the case unless it is the bench's own). */
    KvmHypervisor node(KvmSettings settings) throws HypervisorException {
        return KvmTestNode.open(settings, pool);
    }

    /** Runs {@code action} after the case, even when it failed (last registered, first run). */
    void defer(AutoCloseable action) {
        deferred.push(action);
    }

    void runDeferred() {
        while (!deferred.isEmpty()) {
            try {
                deferred.pop().close();
            } catch (Exception e) {
                System.out.println("[fault suite] clean-up step failed: " + e);
            }
        }
    }

    /** A fresh instance name for this case. */
    String name() {
        return "fault" + (++names);
    }

    /** The test guest (no NIC, TCG), stopped and cleaned up on this node after the case. */
    Instance.Builder guest(String name) throws Exception {
        defer(() -> {
            node.stopInstanceByName(name);
            if (node.knownInstances().contains(name)) {
                node.cleanupInstance(name);
            }
        });
        return KvmTestNode.guest(name, null, null).memory(128);
    }

    /** The exact message of the {@link HypervisorException} {@code action} must throw. */
    static String error(Executable action) {
        return assertThrows(HypervisorException.class, action).getMessage();
    }

    static void expectError(String expected, Executable action) {
        assertEquals(expected, error(action));
    }

    long pid(String name) throws HypervisorException {
        return Optional.ofNullable(node.instanceInfo(name)).orElseThrow(() -> new AssertionError(name + " is not running")).pid();
    }

    /** Sends a signal by pid (never by name) with the kill utility. */
    static void signal(long pid, String signal) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
        if (p.waitFor() != 0) {
            fail("kill -" + signal + " " + pid + ": " + new String(p.getInputStream().readAllBytes()));
        }
    }

    Path script(String name, String body) throws IOException {
        Path p = tmp.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    /** What must be the same before and after every case. */
    record Account(Set<Long> qemuPids, Set<String> taps, Set<Long> uids, int fds, Set<String> files) {
    }

    Account account() throws Exception {
        return new Account(qemuPids(), taps(), pool.taken(), openFds(), files());
    }

    /** QEMU processes started by this suite (their pid file lies under the suite's directory), but the bystander's. */
    Set<Long> qemuPids() throws IOException, HypervisorException {
        Set<Long> out = new TreeSet<>();
        long bystander = Optional.ofNullable(node.instanceInfo(BYSTANDER)).map(i -> i.pid()).orElse(-1L);
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String pid = p.getFileName().toString();
                if (!pid.chars().allMatch(Character::isDigit) || Long.parseLong(pid) == bystander) {
                    continue;
                }
                try {
                    String cmd = Files.readString(p.resolve("cmdline"), StandardCharsets.UTF_8);
                    if (cmd.contains("qemu-system") && cmd.contains(tmp.toString())
                            && !new org.hvkit.kvm.internal.process.QemuProcesses().isZombieOrGone(Long.parseLong(pid))) {
                        out.add(Long.parseLong(pid));
                    }
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return out;
    }

    static Set<String> taps() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/sys/class/net"))) {
            return new TreeSet<>(s.map(p -> p.getFileName().toString()).filter(n -> !n.equals("lo")).toList());
        }
    }

    static int openFds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count() - 1; // the listing's own descriptor
        }
    }

    /** Files under the suite's directory but the bystander's, the bench node's lock and the suite's own inputs. */
    Set<String> files() throws IOException {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> s = Files.walk(root)) {
            // sockets and FIFOs count too; the node's own files (lock, capability cache) do not
            s.filter(p -> !Files.isDirectory(p)).map(p -> root.relativize(p).toString())
                    .filter(f -> !f.equals("hvkit.lock") && !f.startsWith("caps/") && !f.contains(BYSTANDER))
                    .forEach(out::add);
        }
        return out;
    }

    /** The bystander runs, with the same pid as before, and answers. */
    void assertBystanderRuns(long pid) throws HypervisorException {
        var info = Optional.ofNullable(node.instanceInfo(BYSTANDER)).orElseThrow(() -> new AssertionError("the bystander guest is gone"));
        assertEquals(pid, info.pid(), "the bystander's QEMU is the same process");
        assertEquals(InstanceState.RUNNING, info.state(), "the bystander guest runs");
    }

    /** Waits until {@code text} is in {@code name}'s serial log. */
    void awaitLog(String name, String text, Duration timeout) throws InterruptedException {
        KvmTestNode.awaitLog(root, name, text, timeout);
    }

    /** Kills what a failed case left running (by pid) so that later cases start clean. */
    void killLeftovers(Set<Long> pids) {
        for (long pid : pids) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    List<String> leakReport(Account before, Account after) {
        List<String> leaks = new ArrayList<>();
        if (!before.qemuPids().equals(after.qemuPids())) {
            leaks.add("QEMU processes " + before.qemuPids() + " -> " + after.qemuPids());
        }
        if (!before.taps().equals(after.taps())) {
            leaks.add("links " + before.taps() + " -> " + after.taps());
        }
        if (!before.uids().equals(after.uids())) {
            leaks.add("uid locks " + before.uids() + " -> " + after.uids());
        }
        if (before.fds() != after.fds()) {
            leaks.add("JVM descriptors " + before.fds() + " -> " + after.fds());
        }
        if (!before.files().equals(after.files())) {
            leaks.add("runtime files " + before.files() + " -> " + after.files());
        }
        return leaks;
    }
}
