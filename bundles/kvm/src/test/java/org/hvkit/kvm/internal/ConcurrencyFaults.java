package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.FaultBench.error;
import static org.hvkit.kvm.internal.FaultBench.expectError;
import static org.hvkit.kvm.internal.FaultCase.of;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.MigrationInfo;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;

/**
 * One operation per instance at a time (threads and processes), and a component that goes away
 * mid-operation (bundle stop or update) handing over cleanly to its successor.
 */
final class ConcurrencyFaults {

    private static final String BUSY = "Instance %s is busy: %s since \\S+ \\(%s\\); try again when it has finished";

    private ConcurrencyFaults() {
    }

    static List<FaultCase> all() {
        return List.of(
            of("C1", "concurrency", "two starts of one instance at once, three rounds: one QEMU each time", b -> {
                String name = b.name();
                Instance guest = b.guest(name).build();
                ExecutorService two = Executors.newFixedThreadPool(2);
                try {
                    for (int round = 1; round <= 3; round++) {
                        CountDownLatch go = new CountDownLatch(1);
                        Callable<String> start = () -> {
                            go.await();
                            try {
                                b.node.startInstance(guest, true);
                                return "started";
                            } catch (HypervisorException e) {
                                return e.getMessage();
                            }
                        };
                        Future<String> x = two.submit(start);
                        Future<String> y = two.submit(start);
                        go.countDown();
                        List<String> outcomes = new ArrayList<>(List.of(x.get(60, TimeUnit.SECONDS),
                                y.get(60, TimeUnit.SECONDS)));
                        assertTrue(outcomes.remove("started"), "round " + round + ": " + outcomes);
                        assertEquals(List.of("Failed to start instance " + name + ": already running"), outcomes,
                                "round " + round);
                        assertEquals(1, ProcessFaults.processesRunning("-name\u0000" + name + "\u0000").size(),
                                "round " + round + ": one QEMU");
                        b.node.stopInstanceByName(name);
                        b.node.cleanupInstance(name);
                    }
                } finally {
                    two.shutdownNow();
                }
            }),
            of("C2", "concurrency", "cleanup during a slow start waits, then refuses the live instance", b -> {
                Slow slow = slowNode(b, "node-slow", 3);
                String name = b.name();
                Future<?> start = slow.startInBackground(name);
                slow.awaitIfup();
                expectError("Cannot cleanup a live instance " + name, () -> slow.hv.cleanupInstance(name));
                start.get(30, TimeUnit.SECONDS);
                assertTrue(Files.exists(slow.root.resolve("conf/" + name + ".runtime")), "the runtime file survives");
                assertTrue(slow.hv.listInstances().contains(name));
            }),
            of("C3", "concurrency", "another process holds the instance: busy, naming what and since when", b -> {
                String name = b.name();
                Path lock = b.root.resolve("lock/" + name);
                Files.writeString(lock, "start since 2026-12-01T05:00:00Z (node node-x, pid 4242)\n");
                Process holder = new ProcessBuilder("flock", lock.toString(), "sleep", "60").start();
                b.defer(() -> Files.deleteIfExists(lock));
                b.defer(holder::destroyForcibly);
                Thread.sleep(300); // flock(1) has taken the lock
                String msg = error(() -> b.node.cleanupInstance(name));
                assertTrue(msg.matches(String.format(BUSY, name, "start", "node node-x, pid 4242")), msg);
            }),
            of("C4", "concurrency", "a stop during a slow start waits for it, then stops", b -> {
                Slow slow = slowNode(b, "node-slow2", 2);
                String name = b.name();
                Future<?> start = slow.startInBackground(name);
                slow.awaitIfup();
                slow.hv.stopInstance(Instance.builder(name).build(), false, Duration.ofSeconds(2));
                start.get(30, TimeUnit.SECONDS);
                assertFalse(slow.hv.listInstances().contains(name));
                slow.hv.cleanupInstance(name);
            }),
            of("C5", "concurrency", "two node configurations on one root.dir: the second is refused", b -> {
                String msg = error(() -> b.node(KvmTestNode.settings("node-b", b.root, KvmTestNode.QEMU, false, null)));
                assertTrue(msg.matches("root\\.dir " + java.util.regex.Pattern.quote(b.root.toString()) + " is already"
                        + " used by another KVM hypervisor \\(owned since \\S+ \\(node node-a, pid \\d+\\)\\); give every"
                        + " node configuration a root\\.dir of its own"), msg);
            }),
            of("C6", "concurrency", "three lifecycles and readers in parallel", b -> {
                ExecutorService pool = Executors.newFixedThreadPool(4);
                try {
                    List<Future<?>> work = new ArrayList<>();
                    for (int i = 0; i < 3; i++) {
                        String name = b.name();
                        Instance g = b.guest(name).build();
                        work.add(pool.submit(() -> {
                            b.node.startInstance(g, true);
                            b.node.stopInstance(g, true, Duration.ZERO);
                            b.node.cleanupInstance(name);
                            return null;
                        }));
                    }
                    work.add(pool.submit(() -> {
                        for (int i = 0; i < 50; i++) {
                            b.node.allInstancesInfo();
                            b.node.listInstances();
                        }
                        return null;
                    }));
                    for (Future<?> f : work) {
                        f.get(60, TimeUnit.SECONDS);
                    }
                } finally {
                    pool.shutdownNow();
                }
            }),
            of("H1", "handover", "the component goes away during a start: the start finishes, the successor adopts",
                    b -> {
                Slow slow = slowNode(b, "node-h1", 2);
                String name = b.name();
                Future<?> start = slow.startInBackground(name);
                slow.awaitIfup();
                slow.hv.close();
                start.get(30, TimeUnit.SECONDS);
                KvmHypervisor successor = b.node(slow.settings);
                b.defer(successor::close);
                b.defer(() -> successor.stopInstanceByName(name));
                long t0 = System.nanoTime();
                assertEquals(InstanceState.PAUSED, successor.allInstancesInfo().get(0).state());
                assertTrue(System.nanoTime() - t0 < 3_000_000_000L, "the successor is not kept waiting");
                successor.stopInstanceByName(name);
                successor.cleanupInstance(name);
            }),
            of("H2", "handover", "a component that is gone refuses new operations", b -> {
                Path root = b.tmp.resolve("node-h2");
                KvmHypervisor hv = b.node(KvmTestNode.settings("node-h2", root, KvmTestNode.QEMU, false, null));
                b.defer(() -> FileFaults.deleteTree(root));
                hv.close();
                String name = b.name();
                expectError("Cannot start " + name + ": the KVM hypervisor of node node-h2 is stopping (bundle stop,"
                        + " update or reconfiguration); its successor takes over the instances",
                        () -> hv.startInstance(KvmTestNode.guest(name, null, null).build(), true));
            }),
            of("H3", "handover", "the component goes away during a migration: cancelled, the source runs on", b -> {
                Map<String, Object> slow = KvmSettings.hvparamDefaults(Map.of("hvparam.migration_bandwidth", "1",
                        "hvparam.migration_port", "18123"));
                KvmSettings sa = withDefaults(KvmTestNode.settings("node-h3a", b.tmp.resolve("h3a"), KvmTestNode.QEMU,
                        false, null), slow);
                KvmSettings sb = withDefaults(KvmTestNode.settings("node-h3b", b.tmp.resolve("h3b"), KvmTestNode.QEMU,
                        false, null), slow);
                b.defer(() -> FileFaults.deleteTree(b.tmp.resolve("h3a")));
                b.defer(() -> FileFaults.deleteTree(b.tmp.resolve("h3b")));
                KvmHypervisor a = b.node(sa);
                KvmHypervisor target = b.node(sb);
                b.defer(target::close);
                String name = b.name();
                Instance g = KvmTestNode.guest(name, null, null).memory(128).hvparam("security_model", "pool").build();
                a.startInstance(g, false);
                KvmTestNode.awaitLog(sa.rootDir(), name, "GUEST-UP", Duration.ofSeconds(60));
                MigrationInfo info = a.migrationInfo(g);
                target.acceptInstance(g, info, "127.0.0.1");
                ExecutorService one = Executors.newSingleThreadExecutor();
                Future<String> migration = one.submit(() -> error(
                        () -> a.migrateInstance(Optional.ofNullable(a.runningInstance(name)).orElseThrow(), "127.0.0.1", true)));
                one.shutdown();
                Thread.sleep(1500);
                a.close();
                assertEquals("Migration of " + name + " to 127.0.0.1 cancelled: the KVM hypervisor of node node-h3a is"
                        + " stopping; the instance keeps running on the source", migration.get(30, TimeUnit.SECONDS));
                target.finalizeMigration(g, info, false);
                assertFalse(target.knownInstances().contains(name), "the aborted target is gone");
                KvmHypervisor successor = b.node(sa);
                b.defer(successor::close);
                assertEquals(InstanceState.RUNNING, Optional.ofNullable(successor.instanceInfo(name)).orElseThrow().state());
                successor.stopInstanceByName(name);
                successor.cleanupInstance(name);
                assertEquals(Set.of(), b.pool.taken(), "both uids are back");
            })
        );
    }

    /** A node whose ifup script takes {@code seconds}: a start that is in progress for that long. */
    private record Slow(KvmHypervisor hv, KvmSettings settings, Path root, Path ifupRan, FaultBench bench) {
        /**
         * Waits until the start runs its ifup script: past {@code begin}, holding the instance's
         * lock and registered as in flight. The lock file alone is not that point: it is written
         * before {@code begin} looks at the closing flag a second time (H1 failed on CI that way).
         */
        void awaitIfup() throws Exception {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (!Files.exists(ifupRan)) {
                assertTrue(System.nanoTime() < deadline, "the start never ran its ifup script " + ifupRan);
                Thread.sleep(10);
            }
        }

        Future<?> startInBackground(String name) {
            bench.defer(() -> hv.stopInstanceByName(name));
            Instance g;
            try {
                g = KvmTestNode.guest(name, null, null).memory(64)
                        .nic(new Nic("aa:00:00:00:97:01", null, NicMode.BRIDGED, "none")).build();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            ExecutorService one = Executors.newSingleThreadExecutor();
            Future<?> f = one.submit(() -> {
                hv.startInstance(g, true);
                return null;
            });
            one.shutdown();
            return f;
        }
    }

    private static Slow slowNode(FaultBench b, String node, int seconds) throws Exception {
        Path root = b.tmp.resolve(node);
        Path ran = b.tmp.resolve("ifup-" + node + ".ran");
        b.defer(() -> Files.deleteIfExists(ran));
        Path ifup = b.script("ifup-" + node, "touch " + ran + "\nsleep " + seconds);
        KvmSettings s = KvmTestNode.settings(node, root, KvmTestNode.QEMU, true, ifup);
        s = new KvmSettings(s.node(), root, s.kvmPath(), true, ifup, Duration.ofSeconds(30), s.socatPath(),
                s.stopTimeout(), s.migrationTimeout(), s.hvparamDefaults()).allowingDiskFiles(KvmTestNode.DISK_DIRS);
        KvmHypervisor hv = b.node(s);
        b.defer(() -> FileFaults.deleteTree(root));
        b.defer(hv::close);
        return new Slow(hv, s, root, ran, b);
    }

    private static KvmSettings withDefaults(KvmSettings s, Map<String, Object> defaults) {
        return s.withHvparamDefaults(defaults);
    }
}
