package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.KvmTestNode.awaitLog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceStats;
import org.hvkit.kvm.internal.argv.DeviceLayout;
import org.hvkit.kvm.internal.argv.KvmArgvBuilder;
import org.hvkit.kvm.internal.runtime.RuntimeStore;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Device layout 2 on real QEMU and the real test guest (TCG; its initramfs loads virtio_balloon):
 * the balloon device at its slot follows {@code balloonInstanceMemory} (Ganeti's
 * {@code BalloonInstanceMemory}) down and up again, as {@code query-balloon} and the statistics
 * report; out-of-bounds targets change nothing; an instance whose runtime an older hvkit wrote
 * (layout 1) reboots without slots, balloon or {@code -D}, and says why it cannot balloon; a start
 * that QEMU rejects after daemonizing shows QEMU's log in its error and leaves nothing behind.
 */
class BalloonTest {

    private static final long MIB = 1L << 20;

    @TempDir
    Path tmp;
    Path root;

    @BeforeEach
    void setUp() {
        KvmTestNode.requireRealQemu();
        root = tmp.resolve("kvm");
    }

    private static long actual(KvmHypervisor kvm, String name) throws HypervisorException {
        return KvmTestNode.qmp(kvm, name, "query-balloon").path("actual").asLong();
    }

    /** Waits (bounded) until the guest's balloon reports {@code mib}; the TCG guest gives memory back in its own time. */
    private static void awaitActual(KvmHypervisor kvm, String name, long mib, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long seen = actual(kvm, name);
        while (seen != mib * MIB && System.nanoTime() < deadline) {
            Thread.sleep(100);
            seen = actual(kvm, name);
        }
        assertEquals(mib * MIB, seen, "query-balloon actual " + timeout + " after the balloon target " + mib + " MiB");
    }

    private static List<String> cmdline(long pid) throws Exception {
        return Arrays.asList(Files.readString(Path.of("/proc/" + pid + "/cmdline"), StandardCharsets.UTF_8).split("\0"));
    }

    @Test
    void theGuestFollowsTheBalloonAndBadTargetsChangeNothing() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        Instance guest = KvmTestNode.guest("bal1", null, null).build();
        try {
            kvm.startInstance(guest, false);
            awaitLog(root, "bal1", "HEARTBEAT 1", Duration.ofSeconds(60));
            long pid = java.util.Objects.requireNonNull(kvm.instanceInfo("bal1")).pid();
            assertTrue(cmdline(pid).contains("virtio-balloon-pci,id=balloon0,addr=0xc"), cmdline(pid).toString());
            assertEquals(128 * MIB, actual(kvm, "bal1"));
            Instance running = java.util.Objects.requireNonNull(kvm.runningInstance("bal1"));

            kvm.balloonInstanceMemory(running, 72);
            awaitActual(kvm, "bal1", 72, Duration.ofSeconds(60));
            // the figure hv:info shows (the statistics' background refresh, bounded wait)
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            long stat = InstanceStats.UNKNOWN;
            while (stat != 72 * MIB && System.nanoTime() < deadline) {
                stat = kvm.instanceStatistics("bal1").orElseThrow().balloonBytes();
                Thread.sleep(200);
            }
            assertEquals(72 * MIB, stat, "the statistics' balloon figure");

            HypervisorException above = assertThrows(HypervisorException.class,
                    () -> kvm.balloonInstanceMemory(running, 129));
            assertEquals("Cannot balloon the memory of instance bal1 to 129 MiB: above its memory of 128 MiB (-m; the"
                    + " balloon can only give memory back); allowed: 32..128 MiB", above.getMessage());
            HypervisorException below = assertThrows(HypervisorException.class,
                    () -> kvm.balloonInstanceMemory(running, 31));
            assertEquals("Cannot balloon the memory of instance bal1 to 31 MiB: below 32 MiB, the least hvkit leaves a"
                    + " guest; allowed: 32..128 MiB", below.getMessage());
            Thread.sleep(1000);
            assertEquals(72 * MIB, actual(kvm, "bal1"), "a refused target sends nothing");

            kvm.balloonInstanceMemory(running, 128);
            awaitActual(kvm, "bal1", 128, Duration.ofSeconds(60));
            assertTrue(KvmTestNode.serialLog(root, "bal1").contains("HEARTBEAT"), "the guest lives on");
        } finally {
            kvm.stopInstanceByName("bal1");
            if (kvm.knownInstances().contains("bal1")) {
                kvm.cleanupInstance("bal1");
            }
            kvm.close();
        }
        HypervisorException stopped = assertThrows(HypervisorException.class, () -> {
            KvmHypervisor again = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
            try {
                again.balloonInstanceMemory(guest, 64);
            } finally {
                again.close();
            }
        });
        assertEquals("Cannot balloon the memory of instance bal1: not running", stopped.getMessage());
    }

    /**
     * An instance an older hvkit started (its runtime file has no layout) is adopted and rebooted
     * by this one: the new QEMU gets the old layout — no slots, no balloon, no -D — and a balloon
     * request says why it cannot be done.
     */
    @Test
    void aRuntimeOfLayout1RebootsInLayout1() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        Instance guest = KvmTestNode.guest("old1", null, null).build();
        try {
            kvm.startInstance(guest, false);
            awaitLog(root, "old1", "HEARTBEAT 1", Duration.ofSeconds(60));
            // what an older hvkit saved: the same instance in layout 1 (no "layout" in the file)
            KvmInstances core = KvmTestNode.core(kvm);
            Map<String, Object> hv = new LinkedHashMap<>(core.filled(guest));
            KvmArgvBuilder.Generated old = core.launcher().builder().generate(guest, hv,
                    core.capabilities().of(KvmTestNode.QEMU), DeviceLayout.legacy());
            String text = RuntimeStore.serialize(old.runtime(), guest).replace("\"layout\" : 1,", "");
            assertFalse(text.contains("layout"), text);
            core.store().saveText("old1", text);

            kvm.rebootInstance(java.util.Objects.requireNonNull(kvm.runningInstance("old1")));
            long pid = java.util.Objects.requireNonNull(kvm.instanceInfo("old1")).pid();
            List<String> argv = cmdline(pid);
            assertFalse(String.join(" ", argv).contains("balloon") || argv.contains("-D")
                    || String.join(" ", argv).contains("addr="), argv.toString());
            assertEquals(text, Files.readString(core.paths().runtimeFile("old1")), "the runtime file stays as it was");
            HypervisorException e = assertThrows(HypervisorException.class,
                    () -> kvm.balloonInstanceMemory(java.util.Objects.requireNonNull(kvm.runningInstance("old1")), 64));
            assertEquals("Cannot balloon the memory of instance old1: its guest has no balloon device (it was started"
                    + " by an hvkit without one, device layout 1); it gets one at its next start (a stop and a start,"
                    + " not a reboot)", e.getMessage());
        } finally {
            kvm.stopInstanceByName("old1");
            if (kvm.knownInstances().contains("old1")) {
                kvm.cleanupInstance("old1");
            }
            kvm.close();
        }
    }

    /**
     * A kernel that is no kernel (zeros, with an initrd: "linux kernel too old to load a ram disk"):
     * QEMU forks, then finds out — its message goes to its -D log only
     * (its stderr is the log by then). The start error shows it; nothing of the instance remains.
     */
    @Test
    void aStartQemuRejectsAfterDaemonizingShowsQemusLog() throws Exception {
        Path bad = tmp.resolve("not-a-kernel");
        Files.write(bad, new byte[8192]);
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        Instance guest = KvmTestNode.guest("dlog1", null, null).hvparam("kernel_path", bad.toString()).build();
        try {
            HypervisorException e = assertThrows(HypervisorException.class, () -> kvm.startInstance(guest, false));
            assertTrue(e.getMessage().contains("QEMU's log " + root.resolve("ctrl/dlog1.qemu.log") + " ends with:\n")
                    && e.getMessage().contains("qemu: linux kernel too old to load a ram disk"), e.getMessage());
            assertTrue(e.getMessage().startsWith("Failed to start instance dlog1: exited with exit code 1 ();"),
                    "QEMU's stderr went to the log, the spawner saw nothing: " + e.getMessage());
            assertEquals(List.of(), KvmTestNode.instanceFiles(root), "nothing of the failed start remains");
            assertEquals(List.of(), kvm.knownInstances());
        } finally {
            kvm.stopInstanceByName("dlog1");
            kvm.close();
        }
    }
}
