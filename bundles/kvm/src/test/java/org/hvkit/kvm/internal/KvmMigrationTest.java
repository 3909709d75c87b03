package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.KvmTestNode.awaitLog;
import static org.hvkit.kvm.internal.KvmTestNode.serialLog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceStats;
import org.hvkit.hypervisor.MigrationInfo;
import org.hvkit.hypervisor.MigrationStatus;
import org.hvkit.netdev.internal.RtNetlink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Live and non-live migration between two nodes over loopback, on real QEMU with the real guest. */
class KvmMigrationTest {

    @TempDir
    Path tmp;
    Path rootA;
    Path rootB;
    KvmHypervisor a;
    KvmHypervisor b;

    @BeforeEach
    void setUp() throws Exception {
        KvmTestNode.requireRealQemu();
        KvmTestNode.bridge("brm", null);
        rootA = tmp.resolve("a");
        rootB = tmp.resolve("b");
        // QEMU 7.2 under TCG: a live pre-copy that needs several passes (Ganeti's 32 MiB/s default
        // on a running 128 MiB guest with a NIC on a bridge) left the target's guest spinning on
        // corrupted memory in about half of the runs here, with the target "running" and no byte
        // on its console; unthrottled, the copy converges in one pass and never did. hvkit's
        // part (the sequence, the events, the limits) is the same either way, so these tests run
        // at 1000 MiB/s; docs/reliability.md records the observation.
        Map<String, Object> fast = KvmSettings.hvparamDefaults(Map.of("hvparam.migration_bandwidth", "1000"));
        a = KvmTestNode.node(withDefaults(KvmTestNode.settings("node-a", rootA, KvmTestNode.QEMU, false, null), fast));
        b = KvmTestNode.node(withDefaults(KvmTestNode.settings("node-b", rootB, KvmTestNode.QEMU, false, null), fast));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (a != null) {
            a.stopInstanceByName("mig1");
            b.stopInstanceByName("mig1");
            KvmTestNode.ip("link", "del", "brm");
        }
    }

    private static KvmSettings withDefaults(KvmSettings s, Map<String, Object> defaults) {
        return s.withHvparamDefaults(defaults);
    }

    static int lastHeartbeat(String log) {
        Matcher m = Pattern.compile("HEARTBEAT (\\d+)").matcher(log);
        int last = -1;
        while (m.find()) {
            last = Integer.parseInt(m.group(1));
        }
        return last;
    }

    private static void awaitHeartbeatAbove(Path root, int n) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (lastHeartbeat(serialLog(root, "mig1")) <= n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no HEARTBEAT above " + n + " in " + root + ":\n" + serialLog(root, "mig1"));
            }
            Thread.sleep(50);
        }
    }

    private static List<String> files(Path root) throws Exception {
        return KvmTestNode.instanceFiles(root);
    }

    /** The shell's sequence, with progress polled from another thread as hv:migrate does. */
    private void migrate(KvmHypervisor from, KvmHypervisor to, Instance guest, boolean live) throws Exception {
        MigrationInfo info = from.migrationInfo(guest);
        to.acceptInstance(guest, info, "127.0.0.1");
        java.util.concurrent.atomic.AtomicReference<Exception> pollError = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.Set<MigrationStatus.State> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Thread poller = new Thread(() -> {
            while (!done.get()) {
                try {
                    seen.add(from.migrationStatus(guest).status());
                    Thread.sleep(20);
                } catch (Exception e) {
                    pollError.set(e);
                    return;
                }
            }
        });
        poller.start();
        try {
            from.migrateInstance(guest, "127.0.0.1", live);
        } catch (HypervisorException e) {
            to.finalizeMigration(guest, info, false);
            throw e;
        } finally {
            done.set(true);
            poller.join();
        }
        to.finalizeMigration(guest, info, true);
        assertEquals(null, pollError.get(), "polling the status during a migration must not disturb it");
        // which states a poll catches depends on scheduling; that it never sees a failure does not
        assertTrue(!seen.isEmpty() && !seen.contains(MigrationStatus.State.FAILED), seen.toString());
    }

    @Test
    void liveThenNonLiveAndAFailure() throws Exception {
        Instance guest = KvmTestNode.guest("mig1", "brm", null).build();
        a.startInstance(guest, false);
        awaitLog(rootA, "mig1", "HEARTBEAT 2", Duration.ofSeconds(30));

        int before = lastHeartbeat(serialLog(rootA, "mig1"));
        migrate(a, b, guest, true);
        awaitHeartbeatAbove(rootB, before);
        assertEquals(List.of(), a.listInstances(), "no process left on the source");
        assertEquals(List.of(), files(rootA), "no file left on the source");
        assertEquals(List.of("mig1"), b.listInstances());
        MigrationStatus done = a.migrationStatus(guest);
        assertEquals(MigrationStatus.State.COMPLETED, done.status());
        assertTrue(done.downtimeMillis() >= 0, "QEMU's downtime figure is kept after completion: " + done);
        assertTrue(done.completedAt() == null || !done.completedAt().isAfter(java.time.Instant.now()), done.toString());
        assertTrue(done.total() > 0);
        String tapB = Files.readString(rootB.resolve("nic/mig1/0")).trim();
        assertEquals(new RtNetlink().link("brm").index(), new RtNetlink().link(tapB).masterIndex(),
                "the target's tap joined the bridge at accept time");
        assertTrue(Files.exists(rootB.resolve("conf/mig1.runtime")), "finalize wrote the target's runtime");
        assertTrue(Files.readString(rootB.resolve("conf/mig1.runtime")).contains(rootB.toString()),
                "re-rendered for the target's own paths");

        // issue #17: the target's statistics tell of the arrival; without the source's status
        // (this sequence hands none over) the downtime and bytes are unknown, never made up
        InstanceStats.LastMigration arrived = b.instanceStatistics("mig1").orElseThrow().lastMigration();
        assertTrue(arrived != null && arrived.incoming() && arrived.result() == MigrationStatus.State.COMPLETED
                && arrived.durationMillis() > 0 && arrived.downtimeMillis() == InstanceStats.UNKNOWN
                && arrived.transferredBytes() == InstanceStats.UNKNOWN, String.valueOf(arrived));

        // back, through the SPI's coordinator as hv:migrate runs it: it hands the source's figures over
        int beforeBack = lastHeartbeat(serialLog(rootB, "mig1"));
        java.util.List<MigrationStatus> progress = new java.util.concurrent.CopyOnWriteArrayList<>();
        org.hvkit.hypervisor.MigrationCoordinator.migrate(b, a, guest, "127.0.0.1", false,
                new org.hvkit.hypervisor.MigrationCoordinator.Listener() {
                    @Override
                    public void status(MigrationStatus status) {
                        progress.add(status);
                    }
                });
        awaitHeartbeatAbove(rootA, beforeBack);
        assertEquals(List.of(), b.listInstances());
        assertEquals(List.of(), files(rootB));
        MigrationStatus sent = b.migrationStatus(guest);
        InstanceStats back = a.instanceStatistics("mig1").orElseThrow();
        InstanceStats.LastMigration m = back.lastMigration();
        System.out.println("last migration on the target: " + m + " (source: " + sent + ")");
        assertTrue(m != null && m.incoming() && m.result() == MigrationStatus.State.COMPLETED, String.valueOf(m));
        assertEquals(sent.transferred(), m.transferredBytes(), "the source's bytes: " + m);
        assertEquals(sent.downtimeMillis(), m.downtimeMillis(), "the source's downtime: " + m);
        assertTrue(m.transferredBytes() > 0 && m.downtimeMillis() >= 0 && m.durationMillis() > 0, m.toString());
        assertTrue(m.finishedAtMillis() <= System.currentTimeMillis()
                && m.finishedAtMillis() > System.currentTimeMillis() - 120_000, m.toString());
        assertEquals(m, a.allInstanceStatistics().stream().filter(x -> x.name().equals("mig1")).findFirst()
                .orElseThrow().lastMigration(), "one pass tells the same");

        // nobody listens on 127.0.0.2: QEMU's own error, and the source keeps running
        HypervisorException e = assertThrows(HypervisorException.class,
                () -> a.migrateInstance(guest, "127.0.0.2", false));
        assertTrue(e.getMessage().startsWith("Migration failed at the kvm level"), e.getMessage());
        assertTrue(e.getMessage().toLowerCase().contains("connect"), e.getMessage());
        assertEquals("running", KvmTestNode.qmp(a, "mig1", "query-status").path("status").asText(),
                "a non-live source is resumed after a failure");
        var params = KvmTestNode.qmp(a, "mig1", "query-migrate-parameters");
        assertEquals(1000L * 1024 * 1024, params.path("max-bandwidth").asLong(), "migration_bandwidth MiB/s in bytes/s");
        assertEquals(30L, params.path("downtime-limit").asLong(), "migration_downtime in ms");
        int still = lastHeartbeat(serialLog(rootA, "mig1"));
        awaitHeartbeatAbove(rootA, still);
        InstanceStats.LastMigration failed = a.instanceStatistics("mig1").orElseThrow().lastMigration();
        assertTrue(failed != null && !failed.incoming() && failed.result() == MigrationStatus.State.FAILED
                && failed.durationMillis() >= 0 && failed.downtimeMillis() == InstanceStats.UNKNOWN,
                "the source that kept the guest tells of the failed attempt: " + failed);

        // a new QEMU process (a hard reboot) has no last migration
        a.rebootInstance(guest);
        awaitLog(rootA, "mig1", "HEARTBEAT 1", Duration.ofSeconds(30));
        assertEquals(null, a.instanceStatistics("mig1").orElseThrow().lastMigration());

        a.stopInstance(guest, false, Duration.ofSeconds(30));
        a.cleanupInstance("mig1");
        assertEquals(List.of(), files(rootA));
    }

    /** The last number of {@code prefix n} lines in a serial log, -1 when none. */
    static int last(String log, String prefix) {
        Matcher m = Pattern.compile("(?<![A-Z-])" + Pattern.quote(prefix) + " (\\d+)").matcher(log);
        int last = -1;
        while (m.find()) {
            last = Integer.parseInt(m.group(1));
        }
        return last;
    }

    /**
     * The acceptance case of a guest with a disk: a raw ext4 image owned by root (0600), opened by
     * a QEMU that runs under a pool uid with cache=none on a shared disk template; the guest
     * appends its heartbeat to the disk; after a live migration it goes on writing on the target,
     * and after a reboot there it reads back what the source wrote.
     */
    @Test
    void aDiskUnderThePoolIsReadBackOnTheTarget() throws Exception {
        var pool = org.hvkit.uidpool.internal.FlockUidPool.create(org.hvkit.uidpool.UidRanges.parse("34, 65534"),
                tmp.resolve("uid-pool"), new org.hvkit.netdev.internal.FlockFileLocks());
        KvmTestNode.pool(a, pool);
        KvmTestNode.pool(b, pool);
        Path image = tmp.resolve("disk.img");
        Path repo = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().resolve("../..").normalize();
        KvmTestNode.run("bash", repo.resolve("tools/guest/make-disk.sh").toString(), image.toString(), "16");
        Instance g = KvmTestNode.guest("mig1", "brm", null).build();
        Instance guest = g.toBuilder().diskTemplate("sharedfile")
                .disk(new org.hvkit.hypervisor.Disk(image.toString(), org.hvkit.hypervisor.DiskMode.RW, 16))
                .hvparam("disk_cache", "none").hvparam("security_model", "pool")
                .hvparam("kernel_args", g.hvparams().get("kernel_args") + " guest.disk=/dev/vda").build();
        a.startInstance(guest, false);
        awaitLog(rootA, "mig1", "GUEST-DISK-READ empty", Duration.ofSeconds(60));
        awaitLog(rootA, "mig1", "DISK-HEARTBEAT 2", Duration.ofSeconds(30));
        long pidA = Optional.ofNullable(a.instanceInfo("mig1")).orElseThrow().pid();
        assertTrue(pool.taken().contains(uidOf(pidA)), "QEMU on the source runs under a pool uid");
        assertTrue(openFiles(pidA).contains(image.toString()), "the pool-uid QEMU holds the root-owned image");

        // the source's log goes with its clean-up: what it wrote is read before the migration
        int onSource = last(serialLog(rootA, "mig1"), "DISK-HEARTBEAT");
        assertTrue(onSource >= 2, serialLog(rootA, "mig1"));
        migrate(a, b, guest, true);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (last(serialLog(rootB, "mig1"), "DISK-HEARTBEAT") <= onSource) {
            assertTrue(System.nanoTime() < deadline, "the guest writes its disk on the target:\n"
                    + serialLog(rootB, "mig1"));
            Thread.sleep(50);
        }
        assertTrue(pool.taken().contains(uidOf(Optional.ofNullable(b.instanceInfo("mig1")).orElseThrow().pid())), "a pool uid on the target");
        int onTarget = last(serialLog(rootB, "mig1"), "DISK-HEARTBEAT");

        // a soft reboot on the target: a new boot reads back the last line on the disk
        b.rebootInstance(Optional.ofNullable(b.runningInstance("mig1")).orElseThrow());
        awaitLog(rootB, "mig1", "GUEST-DISK-OK", Duration.ofSeconds(60));
        int readBack = last(serialLog(rootB, "mig1"), "GUEST-DISK-READ HEARTBEAT");
        System.out.println("disk read back after migration + reboot: HEARTBEAT " + readBack + " (source wrote up to "
                + onSource + ", target up to " + onTarget + " before the reboot)");
        assertTrue(readBack >= onTarget && onTarget > onSource, "read back " + readBack + ", source wrote "
                + onSource + ", target " + onTarget);

        b.stopInstance(Optional.ofNullable(b.runningInstance("mig1")).orElseThrow(), false, Duration.ofSeconds(30));
        b.cleanupInstance("mig1");
        assertEquals(java.util.Set.of(), pool.taken(), "every uid is back");
        assertEquals(List.of(), files(rootA));
        assertEquals(List.of(), files(rootB));
    }

    private static long uidOf(long pid) throws Exception {
        return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("Uid:"))
                .map(l -> Long.parseLong(l.split("\\s+")[1])).findFirst().orElseThrow();
    }

    private static List<String> openFiles(long pid) throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (Exception e) {
                    return "";
                }
            }).toList();
        }
    }

    @Test
    void legacyRuntimeIsReRenderedForTheTarget() throws Exception {
        Instance guest = KvmTestNode.guest("mig1", null, null).build();
        a.startInstance(guest, false);
        awaitLog(rootA, "mig1", "HEARTBEAT 1", Duration.ofSeconds(30));
        // Ganeti's 3 elements carry no device layout (layout 1): the source runs that layout, as it would have
        KvmTestNode.rebootInLayout1(a, guest);
        awaitLog(rootA, "mig1", "HEARTBEAT 1", Duration.ofSeconds(30));
        // what a legacy-capability node would have saved: Ganeti's 3 elements, with -localtime
        // and boot=on that QEMU 7.2 refuses
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        var top = (com.fasterxml.jackson.databind.node.ArrayNode) mapper.readTree(a.migrationInfo(guest).data());
        var legacy = mapper.createArrayNode();
        var argv = legacy.addArray();
        top.get(0).forEach(v -> argv.add(v.asText()));
        argv.add("-localtime");
        argv.add("-drive");
        argv.add("file=/dev/null,format=raw,if=virtio,boot=on");
        legacy.add(top.get(1));
        legacy.add(top.get(2));
        MigrationInfo info = new MigrationInfo(mapper.writeValueAsString(legacy));

        b.acceptInstance(guest, info, "127.0.0.1");
        a.migrateInstance(guest, "127.0.0.1", true);
        b.finalizeMigration(guest, info, true);
        awaitHeartbeatAbove(rootB, 1);
        String saved = Files.readString(rootB.resolve("conf/mig1.runtime"));
        assertTrue(!saved.contains("-localtime") && !saved.contains("boot=on"), "re-rendered: " + saved);
        b.stopInstance(guest, false, Duration.ofSeconds(30));
        b.cleanupInstance("mig1");
    }

    @Test
    void abortedTargetIsKilledAndCleaned() throws Exception {
        Instance guest = KvmTestNode.guest("mig1", null, null).build();
        a.startInstance(guest, false);
        MigrationInfo info = a.migrationInfo(guest);
        b.acceptInstance(guest, info, "127.0.0.1");
        assertEquals(List.of("mig1"), b.listInstances(), "the incoming QEMU waits");
        b.finalizeMigration(guest, info, false);
        assertEquals(List.of(), b.listInstances());
        assertEquals(List.of(), files(rootB), "the aborted target leaves nothing (unlike Ganeti's FinalizeMigration)");
        assertEquals(List.of("mig1"), a.listInstances(), "the source is untouched");
        a.stopInstanceByName("mig1");
        a.cleanupInstance("mig1");
    }
}
