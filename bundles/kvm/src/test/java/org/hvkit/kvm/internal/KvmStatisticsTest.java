package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.KvmTestNode.awaitLog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.InstanceStats;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code InstanceStatistics} on real QEMU (TCG) with the real test guest, as root in a private netns. */
class KvmStatisticsTest {

    @TempDir
    Path tmp;
    Path root;
    KvmHypervisor kvm;
    private final List<Long> stopped = new java.util.ArrayList<>();

    @BeforeEach
    void setUp() {
        KvmTestNode.requireRealQemu();
        root = tmp.resolve("kvm");
        kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (long pid : stopped) {
            signal(pid, "CONT"); // a stopped QEMU is killed anyway; continue it so nothing is left stopped
        }
        for (String name : kvm.knownInstances()) {
            kvm.stopInstanceByName(name);
            kvm.cleanupInstance(name);
        }
        kvm.close();
    }

    private static void signal(long pid, String signal) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
        assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0, "kill -" + signal);
    }

    private static void awaitStopped(long pid) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            if (stat.charAt(stat.lastIndexOf(')') + 2) == 'T') {
                return;
            }
            assertTrue(System.nanoTime() < deadline, "pid " + pid + " not stopped within 5 s: " + stat);
            Thread.sleep(10);
        }
    }

    private Map<String, InstanceStats> pass() {
        return kvm.allInstanceStatistics().stream().collect(Collectors.toMap(InstanceStats::name, Function.identity()));
    }

    @Test
    void aRealGuestsFiguresArePlausibleAndGrow() throws Exception {
        KvmTestNode.bridge("brst", "10.77.0.1/24");
        try {
            Path disk = Files.write(tmp.resolve("d.img"), new byte[1 << 20]);
            Instance guest = KvmTestNode.guest("stat1", "brst", "10.77.0.2")
                    .disk(new Disk(disk.toString(), DiskMode.RW, 1)).diskTemplate("plain").build();
            kvm.startInstance(guest, false);
            InstanceStats a = kvm.instanceStatistics("stat1").orElseThrow();
            long aAt = System.nanoTime();
            awaitLog(root, "stat1", "GUEST-PING-OK", Duration.ofSeconds(90));
            // block I/O is the last QMP answer while it is young: wait until a's has aged out
            Thread.sleep(Math.max(0, org.hvkit.kvm.internal.stats.StatsTesting.qmpMaxAgeMillis() + 100
                    - (System.nanoTime() - aAt) / 1_000_000));
            InstanceStats b = kvm.instanceStatistics("stat1").orElseThrow();

            assertFalse(b.stale(), b.staleReason());
            assertEquals(InstanceState.RUNNING, b.state());
            assertEquals("node-a", b.node());
            assertEquals(Optional.ofNullable(kvm.instanceInfo("stat1")).orElseThrow().pid(), b.pid());
            assertTrue(b.cpuTimeMillis() > 0, "CPU time " + b.cpuTimeMillis());
            assertTrue(b.cpuTimeMillis() > a.cpuTimeMillis(), "CPU time grows: " + a.cpuTimeMillis() + " -> "
                    + b.cpuTimeMillis());
            assertTrue(b.rssBytes() > 16L << 20, "a TCG guest that booted has more than 16 MiB resident: " + b.rssBytes());
            assertTrue(b.uptimeMillis() > a.uptimeMillis() && b.uptimeMillis() < 300_000, a.uptimeMillis() + " -> "
                    + b.uptimeMillis());
            assertTrue(b.sampledAtMillis() >= a.sampledAtMillis());
            assertEquals(InstanceStats.UNKNOWN, b.balloonBytes(), "the guest has no balloon device");

            assertEquals(1, b.vcpus().size(), b.vcpus().toString());
            InstanceStats.VcpuStats v = b.vcpus().get(0);
            assertTrue(v.threadId() > 0 && v.threadId() != b.pid(), "the vCPU runs on its own thread: " + v);
            assertTrue(v.cpuTimeMillis() > 0 && v.cpuTimeMillis() <= b.cpuTimeMillis(), v + " of " + b.cpuTimeMillis());

            assertFalse(b.disks().isEmpty(), "the disk is listed");
            assertTrue(b.diskReadBytes() > 0, "the guest kernel read the partition table: " + b.disks());

            assertEquals(1, b.nics().size(), b.nics().toString());
            InstanceStats.NicStats n0 = a.nics().get(0);
            InstanceStats.NicStats n1 = b.nics().get(0);
            assertTrue(n1.hostName().startsWith("tap"), n1.toString());
            assertTrue(n1.txPackets() >= n0.txPackets() + 3 && n1.txBytes() > n0.txBytes(),
                    "the guest sent its pings: " + n0 + " -> " + n1);
            assertTrue(n1.rxPackets() >= n0.rxPackets() + 3 && n1.rxBytes() > n0.rxBytes(),
                    "the host's replies reached the guest: " + n0 + " -> " + n1);
        } finally {
            kvm.stopInstanceByName("stat1");
            KvmTestNode.ip("link", "del", "brst");
        }
    }

    @Test
    void aStoppedQemuIsStaleWithinTheBoundWhileAnotherOnesFiguresComeBack() throws Exception {
        kvm.startInstance(KvmTestNode.guest("stat2a", null, null).build(), false);
        kvm.startInstance(KvmTestNode.guest("stat2b", null, null).build(), false);
        awaitLog(root, "stat2a", "GUEST-UP", Duration.ofSeconds(90));
        long pid = Optional.ofNullable(kvm.instanceInfo("stat2a")).orElseThrow().pid();
        Map<String, InstanceStats> before = pass();
        assertFalse(before.get("stat2a").stale(), before.get("stat2a").staleReason());

        stopped.add(pid);
        signal(pid, "STOP");
        awaitStopped(pid); // a group stop reaches every thread a moment after kill returns
        long t0 = System.nanoTime();
        Map<String, InstanceStats> during = pass();
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertTrue(took.compareTo(Duration.ofSeconds(2)) < 0, "the pass took " + took);

        InstanceStats a = during.get("stat2a");
        assertTrue(a.stale(), a.toString());
        assertTrue(a.staleReason().contains("stopped"), a.staleReason());
        assertEquals(InstanceState.UNRESPONSIVE, a.state());
        assertTrue(a.cpuTimeMillis() >= before.get("stat2a").cpuTimeMillis() && a.rssBytes() > 0, a.toString());

        InstanceStats b = during.get("stat2b");
        assertFalse(b.stale(), b.staleReason());
        assertEquals(InstanceState.RUNNING, b.state());
        assertTrue(b.cpuTimeMillis() > 0 && b.rssBytes() > 0 && b.vcpus().size() == 1, b.toString());
        assertTrue(b.cpuTimeMillis() >= before.get("stat2b").cpuTimeMillis());

        signal(pid, "CONT");
        stopped.remove(pid);
        InstanceStats again = kvm.instanceStatistics("stat2a").orElseThrow();
        assertFalse(again.stale(), "continued, it answers again: " + again.staleReason());
    }

    /**
     * One pass over several paused instances, and its cost (3 instances in every run; the
     * measurement with {@code -Dhvkit.stats.instances=200}): passes one second apart as {@code hv:top} makes them,
     * the median of 10 after 2 warm-ups, and the CPU they cost (this JVM, the QEMUs) per pass,
     * printed; every instance answered, none stale.
     */
    @Test
    void onePassOverManyInstances() throws Exception {
        // 3 in every run (every instance answers, none stale); the measurement: -Dhvkit.stats.instances=200
        int n = Integer.getInteger("hvkit.stats.instances", 3);
        java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<?>> starts = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                // a disk each, as real instances have: query-blockstats then answers with a drive
                Path disk = Files.write(tmp.resolve("sb" + i + ".img"), new byte[64 << 10]);
                Instance inst = KvmTestNode.guest("sb" + i, null, null).memory(32)
                        .disk(new Disk(disk.toString(), DiskMode.RW, 1)).diskTemplate("plain").build();
                starts.add(ex.submit(() -> {
                    kvm.startInstance(inst, true);
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : starts) {
                f.get(10, java.util.concurrent.TimeUnit.MINUTES);
            }
        } finally {
            ex.shutdownNow();
        }
        String blockstats = KvmTestNode.qmp(kvm, "sb0", "query-blockstats").toString();
        List<Double> ms = new java.util.ArrayList<>();
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean();
        long jvmCpu0 = 0;
        long qemuCpu0 = 0;
        long qemuCpu1 = 0;
        for (int i = 0; i < 12; i++) {
            if (i == 2) {
                jvmCpu0 = os.getProcessCpuTime();
            }
            if (i > 0) {
                Thread.sleep(1000); // hv:top's cadence
            }
            long t0 = System.nanoTime();
            List<InstanceStats> pass = kvm.allInstanceStatistics();
            long t1 = System.nanoTime();
            long qemuCpu = pass.stream().mapToLong(InstanceStats::cpuTimeMillis).sum();
            if (i == 1) {
                qemuCpu0 = qemuCpu;
            }
            qemuCpu1 = qemuCpu;
            assertEquals(n, pass.size());
            assertTrue(pass.stream().noneMatch(InstanceStats::stale), () -> pass.stream().filter(InstanceStats::stale)
                    .map(InstanceStats::staleReason).findFirst().orElse(""));
            assertTrue(pass.stream().allMatch(s -> s.state() == InstanceState.PAUSED && s.cpuTimeMillis() >= 0
                    && s.rssBytes() > 0 && s.vcpus().size() == 1 && s.disks().size() == 1), () -> pass.get(0) + "\n"
                    + blockstats);
            if (i >= 2) {
                ms.add((t1 - t0) / 1e6);
            }
        }
        double jvmCpuPerPass = (os.getProcessCpuTime() - jvmCpu0) / 1e6 / 10;
        double qemuCpuPerPass = (qemuCpu1 - qemuCpu0) / 10.0; // paused guests: their CPU time is the answering
        // for scale: allInstancesInfo() (hv:list) on the same instances, the same way
        List<Double> list = new java.util.ArrayList<>();
        for (int i = 0; i < 12; i++) {
            long t0 = System.nanoTime();
            assertEquals(n, kvm.allInstancesInfo().size());
            if (i >= 2) {
                list.add((System.nanoTime() - t0) / 1e6);
            }
        }
        java.util.Collections.sort(ms);
        java.util.Collections.sort(list);
        System.out.printf(java.util.Locale.ROOT, "STATS-PASS instances=%d median=%.1f ms min=%.1f ms max=%.1f ms;"
                + " allInstancesInfo median=%.1f ms min=%.1f ms; CPU per pass: JVM %.1f ms (whole JVM), QEMUs %.1f ms%n",
                n, (ms.get(4) + ms.get(5)) / 2, ms.get(0), ms.get(ms.size() - 1), (list.get(4) + list.get(5)) / 2,
                list.get(0), jvmCpuPerPass, qemuCpuPerPass);
    }
}
