package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.KvmTestNode.awaitLog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.Instance;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ganeti 3.0's parameters seen from a real guest and its QEMU 7.2 (TCG): the CPU topology the
 * guest counts, the pinned machine type, the keymap, the guest agent channel, a reboot that
 * ends the instance under reboot_behavior=exit, a disk on io_uring (Ganeti 3.1's disk_aio value)
 * and a machine_version the binary does not have.
 */
class Ganeti30GuestTest {

    @TempDir
    Path tmp;
    Path root;
    KvmHypervisor kvm;

    @BeforeEach
    void setUp() {
        KvmTestNode.requireRealQemu();
        root = tmp.resolve("kvm");
    }

    private void cleanup(String name) throws Exception {
        kvm.stopInstanceByName(name);
        if (kvm.knownInstances().contains(name)) {
            kvm.cleanupInstance(name);
        }
    }

    @Test
    void theGuestSeesItsTopologyAndQemuItsMachineKeymapAndAgent() throws Exception {
        kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        Instance guest = KvmTestNode.guest("g30", null, null).vcpus(2).hvparam("cpu_sockets", 1L)
                .hvparam("cpu_cores", 2L).hvparam("cpu_threads", 1L).hvparam("keymap", "de")
                .hvparam("use_guest_agent", true).build();
        try {
            kvm.startInstance(guest, false);
            awaitLog(root, "g30", "HEARTBEAT 1", Duration.ofSeconds(60));
            // the kernel's boot line: the topology QEMU gave it
            String log = KvmTestNode.serialLog(root, "g30");
            assertTrue(log.contains("smp: Brought up 1 node, 2 CPUs"), "2 CPUs in the guest:\n" + log);
            JsonNode cpus = KvmTestNode.qmp(kvm, "g30", "query-cpus-fast");
            assertEquals(2, cpus.size(), cpus.toString());
            for (JsonNode c : cpus) {
                assertEquals(0, c.path("props").path("socket-id").asInt(), "one socket: " + c);
            }
            assertEquals(List.of(0, 1), List.of(cpus.get(0).path("props").path("core-id").asInt(),
                    cpus.get(1).path("props").path("core-id").asInt()), "two cores: " + cpus);

            // the machine type pinned from the binary's QMP default, as the saved runtime says
            Object pinned = Optional.ofNullable(kvm.runningInstance("g30")).orElseThrow().hvparams().get("machine_version");
            assertEquals(KvmTestNode.core(kvm).capabilities().of(KvmTestNode.QEMU).qmp().defaultMachine(), pinned);
            assertTrue(pinned.toString().startsWith("pc-i440fx-"), pinned.toString());
            String argv = String.join(" ", Files.readString(Path.of("/proc/" + Optional.ofNullable(kvm.instanceInfo("g30")).orElseThrow()
                    .pid() + "/cmdline")).split("\0"));
            assertTrue(argv.contains("-machine " + pinned) && argv.contains("-k de"), argv);

            // the guest agent channel: a socket in ctrl/, a chardev QEMU reports
            assertTrue(Files.exists(root.resolve("ctrl/g30.qga"), LinkOption.NOFOLLOW_LINKS), "ctrl/g30.qga");
            String chardevs = KvmTestNode.qmp(kvm, "g30", "query-chardev").toString();
            assertTrue(chardevs.contains("\"label\":\"qga0\""), chardevs);
            kvm.stopInstance(Optional.ofNullable(kvm.runningInstance("g30")).orElseThrow(), true, Duration.ofSeconds(10));
            kvm.cleanupInstance("g30");
            assertTrue(!Files.exists(root.resolve("ctrl/g30.qga"), LinkOption.NOFOLLOW_LINKS), "the agent socket goes");
        } finally {
            cleanup("g30");
            kvm.close();
        }
    }

    @Test
    void underRebootBehaviorExitAResetEndsTheInstance() throws Exception {
        kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        Instance guest = KvmTestNode.guest("g31", null, null).hvparam("reboot_behavior", "exit").build();
        try {
            kvm.startInstance(guest, false);
            awaitLog(root, "g31", "HEARTBEAT 1", Duration.ofSeconds(60));
            long pid = Optional.ofNullable(kvm.instanceInfo("g31")).orElseThrow().pid();
            try {
                KvmTestNode.qmp(kvm, "g31", "system_reset");
            } catch (Exception e) {
                // QEMU may exit before it answers
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!kvm.listInstances().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(List.of(), kvm.listInstances(), "-no-reboot: the reset ended QEMU (pid " + pid + ")");
        } finally {
            cleanup("g31");
            kvm.close();
        }
    }

    @Test
    void aDiskOnIoUringIsWrittenByTheGuest() throws Exception {
        kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        assertTrue(KvmTestNode.core(kvm).capabilities().of(KvmTestNode.QEMU).qmp().aioModes().contains("io_uring"),
                "Debian 12's QEMU 7.2 is built with liburing");
        Path image = tmp.resolve("disk.img");
        Path repo = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().resolve("../..").normalize();
        KvmTestNode.run("bash", repo.resolve("tools/guest/make-disk.sh").toString(), image.toString(), "16");
        Instance g = KvmTestNode.guest("gio", null, null).build();
        Instance guest = g.toBuilder().diskTemplate("plain")
                .disk(new org.hvkit.hypervisor.Disk(image.toString(), org.hvkit.hypervisor.DiskMode.RW, 16))
                .hvparam("disk_aio", "io_uring").hvparam("disk_cache", "none")
                .hvparam("kernel_args", g.hvparams().get("kernel_args") + " guest.disk=/dev/vda").build();
        try {
            kvm.startInstance(guest, false);
            awaitLog(root, "gio", "DISK-HEARTBEAT 2", Duration.ofSeconds(60));
            String argv = String.join(" ", Files.readString(Path.of("/proc/" + java.util.Objects.requireNonNull(kvm.instanceInfo("gio"), "alive")
                    .pid() + "/cmdline")).split("\0"));
            assertTrue(argv.contains(",aio=io_uring"), argv);
        } finally {
            cleanup("gio");
            kvm.close();
        }
    }

    @Test
    void aMachineVersionTheBinaryLacksIsRefusedBeforeAnythingRuns() throws Exception {
        kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        try {
            Instance guest = KvmTestNode.guest("gmv", null, null).hvparam("machine_version", "pc-i440fx-99.0").build();
            org.hvkit.hypervisor.ParameterException e = org.junit.jupiter.api.Assertions.assertThrows(
                    org.hvkit.hypervisor.ParameterException.class, () -> kvm.startInstance(guest, false));
            assertEquals("machine_version", e.parameter());
            assertTrue(e.getMessage().startsWith("Unsupported machine version: pc-i440fx-99.0 (this QEMU has: ")
                    && e.getMessage().contains("pc-i440fx-7.2"), e.getMessage());
            assertEquals(List.of(), kvm.knownInstances(), "nothing was started or written");
        } finally {
            cleanup("gmv");
            kvm.close();
        }
    }
}
