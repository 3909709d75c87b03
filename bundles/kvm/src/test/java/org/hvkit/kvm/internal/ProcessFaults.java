package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.FaultBench.error;
import static org.hvkit.kvm.internal.FaultBench.expectError;
import static org.hvkit.kvm.internal.FaultCase.of;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.kvm.internal.monitor.QmpClient;
import org.hvkit.kvm.internal.monitor.QmpException;
import org.hvkit.kvm.internal.process.QemuProcesses;

/**
 * Killed, stopped and hung processes — QEMU, the ifup script, the QEMU binary itself — and a
 * QMP peer that misbehaves. Every wait has a bound; the bounds asserted here are the driver's
 * contract (a hang would exceed them by far), not performance goals.
 */
final class ProcessFaults {

    private ProcessFaults() {
    }

    static List<FaultCase> all() {
        return List.of(
            of("Q1", "processes", "kill -9 of a pool-uid QEMU, then start again: one uid, released by cleanup", b -> {
                String name = b.name();
                Instance pooled = b.guest(name).hvparam("security_model", "pool").build();
                b.node.startInstance(pooled, true);
                long oldUid = uid(b, name);
                FaultBench.signal(b.pid(name), "KILL");
                awaitGone(b, name);
                b.node.startInstance(pooled, true);
                assertEquals(Set.of(uid(b, name)), b.pool.taken(), "one uid for one instance; the dead one's is back");
                assertTrue(uid(b, name) == oldUid || !b.pool.taken().contains(oldUid));
                b.node.stopInstanceByName(name);
                b.node.cleanupInstance(name);
                assertEquals(Set.of(), b.pool.taken());
            }),
            of("Q2", "processes", "kill -9 of a pool-uid QEMU, then cleanup: the uid is released", b -> {
                String name = b.name();
                b.node.startInstance(b.guest(name).hvparam("security_model", "pool").build(), true);
                FaultBench.signal(b.pid(name), "KILL");
                awaitGone(b, name);
                b.node.cleanupInstance(name);
                assertEquals(Set.of(), b.pool.taken());
            }),
            of("Q3", "processes", "a SIGSTOPped QEMU is unresponsive and delays nobody", b -> {
                String name = b.name();
                b.node.startInstance(b.guest(name).build(), false);
                long pid = b.pid(name);
                FaultBench.signal(pid, "STOP");
                b.defer(() -> FaultBench.signal(pid, "CONT"));
                KvmTestNode.core(b.node).monitors().forget(name);
                long t0 = System.nanoTime();
                List<InstanceInfo> all = b.node.allInstancesInfo();
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertEquals(InstanceState.UNRESPONSIVE, state(all, name));
                assertEquals(InstanceState.RUNNING, state(all, FaultBench.BYSTANDER));
                assertTrue(ms < InstanceStates.LIST_DEADLINE.toMillis() + 1000, "listing took " + ms + " ms");
                assertEquals(InstanceState.UNRESPONSIVE, Optional.ofNullable(b.node.instanceInfo(name)).orElseThrow().state());
                assertTrue(b.node.listInstances().contains(name));
            }),
            of("Q4", "processes", "clean stop of a SIGSTOPped QEMU returns within its timeout plus the kill", b -> {
                String name = b.name();
                b.node.startInstance(b.guest(name).build(), true);
                FaultBench.signal(b.pid(name), "STOP");
                long t0 = System.nanoTime();
                b.node.stopInstance(Optional.ofNullable(b.node.runningInstance(name)).orElseThrow(), false, Duration.ofSeconds(3));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertFalse(b.node.listInstances().contains(name));
                assertTrue(ms < 3_000 + 15_000, "stop took " + ms + " ms");
            }),
            of("Q5", "processes", "a force stop overtakes a clean stop that waits", b -> {
                String name = b.name();
                b.node.startInstance(b.guest(name).build(), true); // paused: ACPI is never answered
                Instance def = Optional.ofNullable(b.node.runningInstance(name)).orElseThrow();
                CompletableFuture<Void> clean = CompletableFuture.runAsync(() -> {
                    try {
                        b.node.stopInstance(def, false, Duration.ofSeconds(60));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                Thread.sleep(500);
                long t0 = System.nanoTime();
                b.node.stopInstance(def, true, Duration.ZERO);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                clean.get(15, TimeUnit.SECONDS);
                assertTrue(ms < 10_000, "the force stop took " + ms + " ms");
                assertFalse(b.node.listInstances().contains(name));
            }),
            of("Q6", "processes", "an ifup script that never exits is killed after ifup.timeout", b -> {
                Path ifup = b.script("ifup-hangs", "sleep 1000.125 &\nsleep 1000.125");
                KvmHypervisor hv = scriptNode(b, ifup, "node-hang");
                String name = b.name();
                String msg = error(() -> hv.startInstance(withNic(name), true));
                assertTrue(msg.matches("Failed to configure interface tap\\d+: killed after its timeout\\. Network"
                        + " configuration script output: "), msg);
                assertEquals(Set.of(), processesRunning(ifup.toString()), "the script is gone");
                assertEquals(Set.of(), processesRunning("1000.125"), "the script's children are gone");
            }),
            of("Q7", "processes", "an ifup script that fails", b -> {
                Path ifup = b.script("ifup-fails", "echo no bridge for $INTERFACE; exit 1");
                KvmHypervisor hv = scriptNode(b, ifup, "node-fail");
                String msg = error(() -> hv.startInstance(withNic(b.name()), true));
                assertTrue(msg.matches("Failed to configure interface tap\\d+: exited with exit code 1\\. Network"
                        + " configuration script output: no bridge for tap\\d+"), msg);
            }),
            of("Q8", "processes", "a QEMU binary that does not exist", b -> {
                KvmHypervisor hv = b.node(KvmTestNode.settings("node-nokvm", b.tmp.resolve("nokvm"),
                        Path.of("/nonexistent/qemu"), false, null));
                b.defer(() -> FileFaults.deleteTree(b.tmp.resolve("nokvm")));
                b.defer(hv::close);
                expectError("The kvm binary ('/nonexistent/qemu') does not exist.", () -> hv.startInstance(
                        KvmTestNode.guest(b.name(), null, null).build(), true));
            }),
            of("Q9", "processes", "a QEMU that exits right after start", b -> {
                Path fake = b.script("fake-qemu", "case \"$1\" in --help) echo 'QEMU emulator version 7.2.0';"
                        + " echo '-qmp dev'; echo '-chardev socket,id=id,path=path[,logfile=PATH]'; exit 0;; esac\n"
                        + "while [ $# -gt 0 ]; do [ \"$1\" = -pidfile ] && echo $$ > \"$2\"; shift; done; exit 0");
                KvmHypervisor hv = b.node(KvmTestNode.settings("node-fake", b.tmp.resolve("fake"), fake, false, null));
                b.defer(() -> FileFaults.deleteTree(b.tmp.resolve("fake")));
                b.defer(hv::close);
                String name = b.name();
                expectError("Failed to start instance " + name + ": QEMU exited right after start ()",
                        () -> hv.startInstance(KvmTestNode.guest(name, null, null).build(), true));
                try (Stream<Path> left = Files.walk(b.tmp.resolve("fake"))) {
                    assertEquals(List.of("hvkit.lock"), left.filter(Files::isRegularFile)
                            .map(p -> p.getFileName().toString()).sorted().toList(), "nothing but the node's lock");
                }
            }),
            of("Q10", "processes", "a QEMU that daemonizes but outlives the launch timeout is killed, its uid returns", b -> {
                // QEMU writes its pid file right after -daemonize, before it creates chardevs; a server chardev
                // with wait=on then blocks its start until a client connects (QEMU's "waiting for connection")
                Path root = b.tmp.resolve("held");
                // the fault comes in through the instance's kvm_extra, which this test node allows
                KvmHypervisor hv = KvmTestNode.open(KvmTestNode.settings("node-held", root, KvmTestNode.QEMU, false,
                        null).allowingKvmExtraFromInstances(true), b.pool, Duration.ofSeconds(10));
                b.defer(() -> FileFaults.deleteTree(root));
                b.defer(hv::close);
                String name = b.name();
                Path hold = b.tmp.resolve(name + ".hold");
                b.defer(() -> Files.deleteIfExists(hold));
                Instance.Builder pooled = KvmTestNode.guest(name, null, null).memory(64)
                        .hvparam("security_model", "pool");
                b.defer(() -> hv.stopInstanceByName(name));
                String msg = error(() -> hv.startInstance(pooled.hvparam("kvm_extra", "-chardev socket,id=hold,path="
                        + hold + ",server=on,wait=on").build(), true));
                assertTrue(msg.startsWith("Failed to start instance " + name + ": QEMU did not finish starting within"
                        + " 10 s, killed after its timeout ("), msg);
                assertTrue(msg.matches("(?s).*\\); the QEMU it had daemonized \\(pid \\d+\\) is killed; QEMU's log .*"
                        + "QEMU waiting for connection on.*"), msg);
                assertTrue(Files.exists(hold), "QEMU got as far as its held chardev (after its pid file)");
                assertEquals(Set.of(), qemusOf(name, root), "no QEMU of " + name + " runs");
                assertEquals(Set.of(), b.pool.taken(), "the uid is back in the pool");
                assertEquals(List.of(), nodeFiles(root), "no runtime, pid or uid file is left");
                hv.startInstance(pooled.hvparam("kvm_extra", "").build(), true);
                long pid = Optional.ofNullable(hv.instanceInfo(name)).orElseThrow().pid();
                assertEquals(Set.of(pid), qemusOf(name, root), "the second start's QEMU is the only one");
                assertEquals(List.of(name), hv.listInstances());
                hv.stopInstanceByName(name);
                hv.cleanupInstance(name);
                assertEquals(Set.of(), b.pool.taken());
            }),
            of("M1", "qmp peer", "a peer that never greets: connect gives up in time", b ->
                peer(b, out -> { }, path -> {
                    long t0 = System.nanoTime();
                    QmpException e = assertThrows(QmpException.class, () -> QmpClient.connect(path,
                            Duration.ofMillis(500)));
                    assertTrue(e.getMessage().startsWith("No QMP message from " + path), e.getMessage());
                    assertTrue(System.nanoTime() - t0 < 3_000_000_000L, "bounded");
                })),
            of("M2", "qmp peer", "a peer that never ends its line", b ->
                peer(b, out -> out.accept(new byte[17 << 20]), path -> {
                    QmpException e = assertThrows(QmpException.class, () -> QmpClient.connect(path,
                            Duration.ofSeconds(10)));
                    assertEquals("QMP peer " + path + " sent more than 16777216 bytes without ending a message",
                            e.getMessage());
                })),
            of("M3", "qmp peer", "a peer that answers malformed JSON", b ->
                peer(b, out -> out.accept("{oops\r\n".getBytes(StandardCharsets.UTF_8)), path -> {
                    QmpException e = assertThrows(QmpException.class, () -> QmpClient.connect(path,
                            Duration.ofSeconds(5)));
                    assertEquals("Malformed QMP message on " + path + ": {oops", e.getMessage());
                })),
            of("M4", "qmp peer", "a peer whose greeting is no QMP greeting", b ->
                peer(b, out -> out.accept("{\"hello\": 1}\r\n".getBytes(StandardCharsets.UTF_8)), path -> {
                    QmpException e = assertThrows(QmpException.class, () -> QmpClient.connect(path,
                            Duration.ofSeconds(5)));
                    assertEquals("QMP greeting expected on " + path + ", got {\"hello\":1}", e.getMessage());
                }))
        );
    }

    private static long uid(FaultBench b, String name) throws Exception {
        return Long.parseLong(Files.readString(b.root.resolve("uid/" + name)).trim());
    }

    private static void awaitGone(FaultBench b, String name) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (b.node.listInstances().contains(name)) {
            assertTrue(System.nanoTime() < deadline, name + " still listed 10 s after SIGKILL");
            Thread.sleep(20);
        }
    }

    private static InstanceState state(List<InstanceInfo> all, String name) {
        return all.stream().filter(i -> i.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " not in " + all)).state();
    }

    private static KvmHypervisor scriptNode(FaultBench b, Path ifup, String node) throws Exception {
        Path root = b.tmp.resolve(node);
        KvmSettings s = KvmTestNode.settings(node, root, KvmTestNode.QEMU, true, ifup);
        KvmHypervisor hv = b.node(new KvmSettings(s.node(), s.rootDir(), s.kvmPath(), true, ifup, Duration.ofSeconds(2),
                s.socatPath(), s.stopTimeout(), s.migrationTimeout(), s.hvparamDefaults()).allowingDiskFiles(KvmTestNode.DISK_DIRS));
        b.defer(() -> FileFaults.deleteTree(root));
        b.defer(hv::close);
        return hv;
    }

    /** Live QEMU processes (never zombies) whose command line names instance {@code name} of the node at {@code root}. */
    private static Set<Long> qemusOf(String name, Path root) throws Exception {
        Set<Long> out = new java.util.TreeSet<>();
        for (long pid : processesRunning("\0-name\0" + name + "\0")) {
            String cmd = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), StandardCharsets.UTF_8);
            if (cmd.contains(root.toString()) && !new QemuProcesses().isZombieOrGone(pid)) {
                out.add(pid);
            }
        }
        return out;
    }

    /** Every file under a node's root.dir (sockets too) but the node's own lock and capability cache. */
    private static List<String> nodeFiles(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> !Files.isDirectory(p)).map(p -> root.relativize(p).toString())
                    .filter(f -> !f.equals("hvkit.lock") && !f.startsWith("caps/")).sorted().toList();
        }
    }

    private static Instance withNic(String name) throws Exception {
        return KvmTestNode.guest(name, null, null).memory(64)
                .nic(new Nic("aa:00:00:00:98:01", null, NicMode.BRIDGED, "nobridge")).build();
    }

    /** Pids of live processes whose command line contains {@code text}. */
    static Set<Long> processesRunning(String text) throws Exception {
        Set<Long> out = new java.util.TreeSet<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String pid = p.getFileName().toString();
                if (!pid.chars().allMatch(Character::isDigit) || Long.parseLong(pid) == ProcessHandle.current().pid()) {
                    continue;
                }
                try {
                    String cmd = Files.readString(p.resolve("cmdline"), StandardCharsets.UTF_8);
                    if (cmd.contains(text)) {
                        out.add(Long.parseLong(pid));
                    }
                } catch (java.io.IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return out;
    }

    @FunctionalInterface
    interface PeerCheck {
        void run(Path socket) throws Exception;
    }

    /** A fake QMP peer: accepts one connection, sends what {@code script} writes, then holds the line. */
    private static void peer(FaultBench b, Consumer<Consumer<byte[]>> script, PeerCheck check) throws Exception {
        Path path = b.tmp.resolve("peer.sock");
        ServerSocketChannel listening = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listening.bind(UnixDomainSocketAddress.of(path));
        b.defer(() -> Files.deleteIfExists(path));
        b.defer(listening::close);
        Thread server = new Thread(() -> {
            try (SocketChannel conn = listening.accept()) {
                script.accept(bytes -> {
                    try {
                        conn.write(ByteBuffer.wrap(bytes));
                    } catch (Exception e) {
                        // the client gave up (as it should)
                    }
                });
                conn.read(ByteBuffer.allocate(1 << 16)); // hold the line until the client goes
            } catch (Exception e) {
                // closed
            }
        }, "fake-qmp-peer");
        server.setDaemon(true);
        server.start();
        try {
            check.run(path);
        } finally {
            server.join(20_000);
        }
    }
}
