package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.KvmTestNode.awaitLog;
import static org.hvkit.kvm.internal.KvmTestNode.serialLog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

import org.hvkit.hypervisor.ConsoleKind;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.netdev.internal.FlockFileLocks;
import org.hvkit.netdev.internal.RtNetlink;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The KVM lifecycle on real QEMU 7.2 (TCG) with the real test guest, as root in a private netns. */
class KvmLifecycleTest {

    @TempDir
    Path tmp;
    Path root;

    @BeforeEach
    void setUp() throws Exception {
        KvmTestNode.requireRealQemu();
        root = tmp.resolve("kvm");
    }

    private static List<String> filesUnder(Path root) throws Exception {
        return KvmTestNode.instanceFiles(root);
    }

    /** Sends one HMP command the way Ganeti 2.4 did: a socat process on the human monitor socket. */
    private static String hmp(Path socket, String command) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", "echo '" + command + "' | socat STDIO UNIX-CONNECT:" + socket)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        return out;
    }

    private static long openSockets() throws Exception {
        // every socket of this JVM shows as socket:[inode] in /proc/self/fd
        return KvmTestNode.countFds(Path.of("/proc/self/fd"), t -> t.startsWith("socket:"));
    }

    @Test
    void keptMonitorConnectionFollowsStateChangesMadeElsewhere() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        Instance guest = KvmTestNode.guest("guest5", null, null).memory(64).build();
        long socketsBefore = openSockets();
        KvmHypervisor current = kvm;
        try {
            kvm.startInstance(guest, true);
            assertEquals(1, KvmTestNode.core(kvm).monitors().open(), "the start's connection is kept");
            assertEquals(InstanceState.PAUSED, Optional.ofNullable(kvm.instanceInfo("guest5")).orElseThrow().state());
            // an operator resumes and pauses the guest on the human monitor, behind the driver's back
            hmp(root.resolve("ctrl/guest5.monitor"), "cont");
            assertEquals(InstanceState.RUNNING, Optional.ofNullable(kvm.instanceInfo("guest5")).orElseThrow().state(),
                    "the RESUME event reached the kept connection");
            hmp(root.resolve("ctrl/guest5.monitor"), "stop");
            assertEquals(InstanceState.PAUSED, Optional.ofNullable(kvm.instanceInfo("guest5")).orElseThrow().state(),
                    "the STOP event reached the kept connection");
            assertEquals(1, KvmTestNode.core(kvm).monitors().open(), "still one connection, no reconnect per query");

            // a component that goes away (bundle update) closes its connections; a successor takes over
            kvm.close();
            assertEquals(0, KvmTestNode.core(kvm).monitors().open());
            KvmHypervisor successor = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
            current = successor;
            assertEquals(InstanceState.PAUSED, Optional.ofNullable(successor.instanceInfo("guest5")).orElseThrow().state());
            successor.stopInstance(guest, true, Duration.ofSeconds(10));
            assertEquals(0, KvmTestNode.core(successor).monitors().open(), "stop closes the connection");
            successor.cleanupInstance("guest5");
            assertEquals(socketsBefore, openSockets(), "no socket left open in this JVM");
        } finally {
            current.stopInstanceByName("guest5");
            if (current.knownInstances().contains("guest5")) {
                current.cleanupInstance("guest5");
            }
            current.close();
        }
    }

    @Test
    void aQemuKilledBehindTheDriversBackIsNoLongerListed() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        Instance guest = KvmTestNode.guest("guest6", null, null).memory(64).build();
        try {
            kvm.startInstance(guest, true);
            long pid = Optional.ofNullable(kvm.instanceInfo("guest6")).orElseThrow().pid(); // now answered from the kept connection
            assertEquals(InstanceState.PAUSED, Optional.ofNullable(kvm.instanceInfo("guest6")).orElseThrow().state());
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (Optional.ofNullable(kvm.instanceInfo("guest6")).isPresent() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(Optional.ofNullable(kvm.instanceInfo("guest6")).isEmpty(), "the closed connection (or /proc) shows it gone");
            assertEquals(List.of(), kvm.listInstances());
            assertEquals(0, KvmTestNode.core(kvm).monitors().open(), "the broken connection was dropped");
        } finally {
            kvm.stopInstanceByName("guest6");
            kvm.cleanupInstance("guest6");
        }
    }

    @Test
    void startBridgedPingListStopWithAcpiCleanup() throws Exception {
        KvmTestNode.bridge("br0", "10.99.0.1/24");
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        Instance guest = KvmTestNode.guest("guest1", "br0", "10.99.0.2").build();
        try {
            kvm.startInstance(guest, false);
            awaitLog(root, "guest1", "GUEST-UP", Duration.ofSeconds(30));
            awaitLog(root, "guest1", "GUEST-PING-OK 10.99.0.1", Duration.ofSeconds(30));

            assertEquals(List.of("guest1"), kvm.listInstances());
            InstanceInfo info = Optional.ofNullable(kvm.instanceInfo("guest1")).orElseThrow();
            assertEquals(128, info.memoryMiB());
            assertEquals(1, info.vcpus());
            assertEquals(InstanceState.RUNNING, info.state());
            String tap = Files.readString(root.resolve("nic/guest1/0"));
            assertEquals(new RtNetlink().link("br0").index(), new RtNetlink().link(tap).masterIndex(),
                    "the tap is a port of br0");
            assertEquals("fe:ff:ff:ff:ff:ff", new RtNetlink().link(tap).mac());
            assertEquals("br0", Optional.ofNullable(kvm.runningInstance("guest1")).orElseThrow().nics().get(0).link());
            assertEquals(ConsoleKind.SSH, kvm.instanceConsole(guest).kind());
            HypervisorException again = assertThrows(HypervisorException.class, () -> kvm.startInstance(guest, false));
            assertEquals("Failed to start instance guest1: already running", again.getMessage());
            assertThrows(HypervisorException.class, () -> kvm.cleanupInstance("guest1"));

            kvm.stopInstance(guest, false, Duration.ofSeconds(30));
            assertTrue(serialLog(root, "guest1").contains("GUEST-POWERDOWN"), "ACPI reached the guest");
            assertEquals(List.of(), kvm.listInstances());
            assertTrue(new RtNetlink().findLink(tap).isEmpty(), "the tap went with QEMU");
            kvm.cleanupInstance("guest1");
            assertEquals(List.of(), filesUnder(root), "cleanup leaves no file");
        } finally {
            kvm.stopInstanceByName("guest1");
            KvmTestNode.ip("link", "del", "br0");
        }
    }

    @Test
    void scriptModeWithTheShippedIfupScript() throws Exception {
        KvmTestNode.bridge("br9", "10.98.0.1/24");
        // script mode with no script configured installs and runs hvkit's built-in kvm-ifup
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, true, null);
        Instance guest = KvmTestNode.guest("guest4", "br9", "10.98.0.2").build();
        try {
            kvm.startInstance(guest, false);
            awaitLog(root, "guest4", "GUEST-PING-OK 10.98.0.1", Duration.ofSeconds(45));
            String tap = Files.readString(root.resolve("nic/guest4/0"));
            assertEquals(new RtNetlink().link("br9").index(), new RtNetlink().link(tap).masterIndex());
            assertEquals(new RtNetlink().link("br9").mtu(), new RtNetlink().link(tap).mtu(), "the bridge's MTU");
            kvm.stopInstance(guest, true, Duration.ofSeconds(5));
            kvm.cleanupInstance("guest4");
        } finally {
            kvm.stopInstanceByName("guest4");
            KvmTestNode.ip("link", "del", "br9");
        }
    }

    @Test
    void forceStopWithoutAcpiAndKilledQemu() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        Instance noAcpi = KvmTestNode.guest("guest2", null, null).hvparam("acpi", false).build();
        kvm.startInstance(noAcpi, false);
        awaitLog(root, "guest2", "GUEST-UP", Duration.ofSeconds(30));
        kvm.stopInstance(noAcpi, false, Duration.ofSeconds(5));
        assertFalse(serialLog(root, "guest2").contains("GUEST-POWERDOWN"), "killed, not powered down");
        assertEquals(List.of(), kvm.listInstances());
        kvm.cleanupInstance("guest2");

        kvm.startInstance(noAcpi, false);
        long pid = Optional.ofNullable(kvm.instanceInfo("guest2")).orElseThrow().pid();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!kvm.listInstances().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(List.of(), kvm.listInstances(), "a killed QEMU is not listed (zombie counts as dead)");
        kvm.cleanupInstance("guest2");
        assertEquals(List.of(), filesUnder(root));
    }

    @Test
    void poolUidChrootQuarantineAndReboot() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        // nobody (65534) is a passwd user under which nothing runs here
        var pool = new PoolForTests(org.hvkit.uidpool.internal.FlockUidPool.create(
                org.hvkit.uidpool.UidRanges.parse("65534"), tmp.resolve("uid-pool"), new FlockFileLocks()));
        KvmTestNode.pool(kvm, pool.pool());
        Instance guest = KvmTestNode.guest("guest3", null, null).hvparam("security_model", "pool")
                .hvparam("use_chroot", true).build();
        kvm.startInstance(guest, false);
        awaitLog(root, "guest3", "GUEST-UP", Duration.ofSeconds(30));
        long pid = Optional.ofNullable(kvm.instanceInfo("guest3")).orElseThrow().pid();
        assertEquals("65534", uidOf(pid), "QEMU runs as the pool uid");
        assertEquals(root.resolve("chroot/guest3").toRealPath(), Path.of("/proc/" + pid + "/root").toRealPath());
        assertEquals("65534", Files.readString(root.resolve("uid/guest3")));
        assertEquals(java.util.Set.of(65534L), pool.pool().taken());

        kvm.rebootInstance(guest);
        awaitLog(root, "guest3", "GUEST-UP", Duration.ofSeconds(30));
        long newPid = Optional.ofNullable(kvm.instanceInfo("guest3")).orElseThrow().pid();
        assertTrue(newPid != pid, "a new QEMU after reboot");
        assertEquals("65534", uidOf(newPid), "the released uid was reserved again");

        Files.writeString(root.resolve("chroot/guest3/dropped"), "evidence");
        kvm.stopInstance(guest, true, Duration.ofSeconds(5));
        kvm.cleanupInstance("guest3");
        assertEquals(java.util.Set.of(), pool.pool().taken(), "cleanup released the uid");
        try (Stream<Path> q = Files.list(root.resolve("chroot-quarantine"))) {
            List<Path> quarantined = q.toList();
            assertEquals(1, quarantined.size());
            assertTrue(quarantined.get(0).getFileName().toString().startsWith("guest3-"));
            assertEquals("evidence", Files.readString(quarantined.get(0).resolve("dropped")));
        }
    }

    private static String uidOf(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("Uid:")) {
                return line.split("\\s+")[1];
            }
        }
        throw new AssertionError("no Uid line");
    }

    /** The real pool allocation, without DS. */
    record PoolForTests(org.hvkit.uidpool.UidPool pool) {
    }
}
