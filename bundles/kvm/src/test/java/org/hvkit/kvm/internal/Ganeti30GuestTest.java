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
 * guest counts, the pinned machine type, the keymap, the guest agent channel, and a reboot that
 * ends the instance under reboot_behavior=exit.
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
}
