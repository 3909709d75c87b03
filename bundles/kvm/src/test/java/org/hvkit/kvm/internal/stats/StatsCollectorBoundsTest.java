package org.hvkit.kvm.internal.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.InstanceStats;
import org.hvkit.kvm.internal.monitor.FakeQmpPeer;
import org.hvkit.kvm.internal.monitor.Monitors;
import org.hvkit.kvm.internal.process.QemuProcess;
import org.hvkit.kvm.internal.runtime.RuntimePaths;
import org.hvkit.netdev.Netlink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector against scripted QMP peers (no QEMU): a peer that greets and then never
 * answers costs its instance a stale mark within the bound and delays nobody else; what never
 * changes for a process is asked once; a statistics pass does not make the run state be asked again.
 */
class StatsCollectorBoundsTest {

    @TempDir
    Path tmp;
    private FakeQmpPeer good;
    private FakeQmpPeer hung;
    private final Monitors monitors = new Monitors(Duration.ofSeconds(10));
    private InstanceStatsCollector collector;

    /** This JVM stands in for both QEMU processes: a live, not stopped process with threads. */
    private static final long PID = ProcessHandle.current().pid();

    private static Netlink noNetlink() {
        return (Netlink) Proxy.newProxyInstance(Netlink.class.getClassLoader(), new Class<?>[] {Netlink.class},
                (p, m, a) -> {
                    throw new AssertionError("no instance has taps: netlink must not be asked (" + m.getName() + ")");
                });
    }

    private void setUp() throws Exception {
        RuntimePaths paths = new RuntimePaths(tmp.resolve("root"));
        Files.createDirectories(paths.ctrlDir());
        good = FakeQmpPeer.start(paths.qmpSocket("good"))
                .on("query-status", FakeQmpPeer.ok("{\"status\": \"running\", \"running\": true}"))
                .on("query-cpus-fast", FakeQmpPeer.ok("[{\"cpu-index\": 0, \"thread-id\": " + PID + "}]"))
                .on("query-blockstats", FakeQmpPeer.ok("[{\"device\": \"virtio0\", \"node-name\": \"#block1\","
                        + " \"stats\": {\"rd_bytes\": 4096,"
                        + " \"wr_bytes\": 1024, \"rd_operations\": 3, \"wr_operations\": 2}}]"))
                .on("query-balloon", FakeQmpPeer.error("DeviceNotActive", "No balloon device has been activated"));
        hung = FakeQmpPeer.start(paths.qmpSocket("hung")).on("query-status", FakeQmpPeer.silence());
        collector = new InstanceStatsCollector("node-a", paths, () -> List.of("good", "gone", "hung"),
                name -> name.equals("gone") ? Optional.empty() : Optional.of(new QemuProcess(PID, 128, 1)), monitors,
                noNetlink());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (collector != null) {
            collector.close();
        }
        monitors.close();
        for (FakeQmpPeer p : new FakeQmpPeer[] {good, hung}) {
            if (p != null) {
                p.close();
            }
        }
    }

    @Test
    void aSilentQemuIsStaleWithinTheBoundAndTheOthersFiguresComeBack() throws Exception {
        setUp();
        long t0 = System.nanoTime();
        List<InstanceStats> pass = collector.all();
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertTrue(took.compareTo(InstanceStatsCollector.QMP_WAIT.plusMillis(700)) < 0, "the pass took " + took);
        assertEquals(List.of("good", "hung"), pass.stream().map(InstanceStats::name).toList(), "gone is not alive");

        InstanceStats g = pass.get(0);
        assertFalse(g.stale(), g.staleReason());
        assertEquals(InstanceState.RUNNING, g.state());
        assertEquals("node-a", g.node());
        assertEquals(List.of(new InstanceStats.DiskStats("virtio0", 4096, 1024, 3, 2)), g.disks());
        assertEquals(InstanceStats.UNKNOWN, g.balloonBytes(), "no balloon device: unknown, not 0");
        assertEquals(1, g.vcpus().size());
        assertEquals(PID, g.vcpus().get(0).threadId());
        assertTrue(g.vcpus().get(0).cpuTimeMillis() >= 0);
        assertTrue(g.cpuTimeMillis() > 0 && g.rssBytes() > 0 && g.uptimeMillis() > 0, g.toString());
        assertTrue(g.nics().isEmpty());

        InstanceStats h = pass.get(1);
        assertTrue(h.stale());
        assertTrue(h.staleReason().contains("did not answer"), h.staleReason());
        assertEquals(InstanceState.UNRESPONSIVE, h.state());
        assertTrue(h.cpuTimeMillis() > 0 && h.rssBytes() > 0, "the /proc figures still come: " + h);
        assertTrue(h.disks().isEmpty());

        // the second pass: vCPU threads and the missing balloon are not asked again, nor the unchanged run state
        long t1 = System.nanoTime();
        InstanceStats g2 = collector.one("good").orElseThrow();
        assertTrue(System.nanoTime() - t1 < 100_000_000L, "a young answer is given without waiting");
        assertFalse(g2.stale(), g2.staleReason());
        assertTrue(g2.cpuTimeMillis() >= g.cpuTimeMillis());
        assertEquals(1, good.count("query-cpus-fast"));
        assertEquals(1, good.count("query-balloon"));
        assertEquals(1, good.count("query-status"), "the statistics queries keep the cached run state");
        good.awaitCommand("query-blockstats", 2); // the second pass gave the fresh answer and started a refresh
        assertTrue(collector.one("gone").isEmpty());

        // a silent QEMU stays stale in later passes, which do not wait for it again
        long t2 = System.nanoTime();
        InstanceStats h2 = collector.one("hung").orElseThrow();
        assertTrue(h2.stale(), h2.toString());
        assertTrue(System.nanoTime() - t2 < 100_000_000L, "its failed answer is young: no waiting");
    }
}
