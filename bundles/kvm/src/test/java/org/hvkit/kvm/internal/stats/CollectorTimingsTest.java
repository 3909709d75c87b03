package org.hvkit.kvm.internal.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.hvkit.hypervisor.InstanceStats;
import org.hvkit.kvm.internal.monitor.FakeQmpPeer;
import org.hvkit.kvm.internal.monitor.Monitors;
import org.hvkit.kvm.internal.process.QemuProcess;
import org.hvkit.kvm.internal.runtime.RuntimePaths;
import org.hvkit.netdev.Netlink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The collector's configurable bounds: their validation, and a collector that obeys them. */
class CollectorTimingsTest {

    @TempDir
    Path tmp;

    @Test
    void keysLeftOutKeepTheDefaultsOthersAreReadAsTextOrNumbers() {
        assertEquals(CollectorTimings.DEFAULTS, CollectorTimings.from(Map.of("root.dir", "/x"), "org.hvkit.kvm"));
        assertEquals(new CollectorTimings(Duration.ofMillis(50), Duration.ofMinutes(10), Duration.ofMillis(100)),
                CollectorTimings.from(Map.of("stats.qmp.wait.millis", " 50", "stats.max.age.millis", 600_000L,
                        "stats.pass.deadline.millis", 100), "org.hvkit.kvm"));
    }

    /** The value of {@code key} is refused with a message naming the key, the range and the value. */
    private static void refused(String key, Object value, long min, long max) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CollectorTimings.from(Map.of(key, value), "org.hvkit.kvm"), key + "=" + value);
        assertEquals("org.hvkit.kvm: " + key + " must be a whole number of milliseconds from " + min + " to " + max
                + ", got '" + value + "'", e.getMessage());
    }

    @Test
    void aBadValueNamesTheKeyAndTheRange() {
        refused("stats.qmp.wait.millis", "49", 50, 30_000);
        refused("stats.qmp.wait.millis", "30001", 50, 30_000);
        refused("stats.max.age.millis", "99", 100, 600_000);
        refused("stats.max.age.millis", "3s", 100, 600_000);
        refused("stats.max.age.millis", "-3000", 100, 600_000);
        refused("stats.max.age.millis", 3000.5, 100, 600_000);
        refused("stats.pass.deadline.millis", "", 100, 60_000);
        refused("stats.pass.deadline.millis", "1e3", 100, 60_000);
        refused("stats.pass.deadline.millis", "9999999999999", 100, 60_000);
        refused("stats.pass.deadline.millis", 60_001, 100, 60_000);
    }

    /**
     * A QEMU that answers once and then goes silent: with an answer age of 200 ms (the default is
     * 3 s) the second pass, 400 ms later, must not give the old answer but wait for a new one,
     * at most the configured pass deadline of 200 ms (the default is 1.5 s; the QMP wait of 5 s,
     * default 0.5 s, is longer, so the pass deadline is what ends the wait), and then mark it stale.
     */
    @Test
    void aCollectorObeysItsConfiguredTimings() throws Exception {
        long pid = ProcessHandle.current().pid();
        RuntimePaths paths = new RuntimePaths(tmp.resolve("root"));
        Files.createDirectories(paths.ctrlDir());
        Netlink noNetlink = (Netlink) Proxy.newProxyInstance(Netlink.class.getClassLoader(),
                new Class<?>[] {Netlink.class}, (p, m, a) -> {
                    throw new AssertionError("no taps: netlink is not asked");
                });
        java.util.concurrent.atomic.AtomicBoolean silent = new java.util.concurrent.atomic.AtomicBoolean();
        CollectorTimings timings = new CollectorTimings(Duration.ofMillis(5000), Duration.ofMillis(200),
                Duration.ofMillis(200));
        try (Monitors monitors = new Monitors(Duration.ofSeconds(10));
             FakeQmpPeer peer = FakeQmpPeer.start(paths.qmpSocket("vm"))
                     .on("query-status", FakeQmpPeer.ok("{\"status\": \"running\", \"running\": true}"))
                     .on("query-cpus-fast", FakeQmpPeer.ok("[]"))
                     .on("query-balloon", FakeQmpPeer.error("DeviceNotActive", "No balloon device"))
                     .on("query-blockstats", (wire, command) -> {
                         if (!silent.get()) {
                             wire.reply("[]");
                         }
                     });
             InstanceStatsCollector collector = new InstanceStatsCollector("node-a", paths, () -> List.of("vm"),
                     name -> Optional.of(new QemuProcess(pid, 128, 1)), monitors, noNetlink, timings)) {
            // until a pass gets an answer in time (the first connection may take longer than 200 ms)
            long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            InstanceStats first = collector.one("vm").orElseThrow();
            while (first.stale() && System.nanoTime() < until) {
                Thread.sleep(50);
                first = collector.one("vm").orElseThrow();
            }
            assertFalse(first.stale(), first.staleReason());
            silent.set(true);
            Thread.sleep(400);
            long t0 = System.nanoTime();
            InstanceStats second = collector.one("vm").orElseThrow();
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertTrue(second.stale(), "an answer older than 200 ms is not given: " + second);
            assertEquals("QMP did not answer within the pass deadline of 200 ms", second.staleReason());
            assertTrue(took.compareTo(Duration.ofMillis(1400)) < 0, "not the default pass deadline: " + took);
        }
    }
}
