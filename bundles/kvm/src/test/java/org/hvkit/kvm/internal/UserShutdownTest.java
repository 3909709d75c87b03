package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.KvmTestNode.awaitLog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceState;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ganeti 3.0's user_shutdown on real QEMU: with {@code -no-shutdown} a guest that powers off
 * leaves QEMU in state shutdown (it does not exit), and a clean stop still ends the process by
 * telling QEMU to quit once the guest is down, instead of waiting for its deadline.
 */
class UserShutdownTest {

    @TempDir
    Path tmp;
    Path root;

    @BeforeEach
    void setUp() {
        KvmTestNode.requireRealQemu();
        root = tmp.resolve("kvm");
    }

    @Test
    void aGuestThatPowersOffStaysAsShutdownAndACleanStopQuitsIt() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        Instance guest = KvmTestNode.guest("off1", null, null).hvparam("user_shutdown", true).build();
        try {
            kvm.startInstance(guest, false);
            awaitLog(root, "off1", "HEARTBEAT 1", Duration.ofSeconds(60));
            long pid = Optional.ofNullable(kvm.instanceInfo("off1")).orElseThrow().pid();
            // the ACPI button: the guest's acpid powers it off by itself
            KvmTestNode.qmp(kvm, "off1", "system_powerdown");
            awaitLog(root, "off1", "GUEST-POWERDOWN", Duration.ofSeconds(30));
            awaitState(kvm, "off1", InstanceState.SHUTDOWN);
            assertTrue(running(pid), "-no-shutdown: QEMU outlives its guest");

            // a start now replaces the QEMU that waited (Ganeti: the instance is down, it can be started)
            kvm.startInstance(Optional.ofNullable(kvm.runningInstance("off1")).orElseThrow(), false);
            long second = Optional.ofNullable(kvm.instanceInfo("off1")).orElseThrow().pid();
            assertTrue(second != pid && !running(pid), "a new QEMU (" + second + "), the old one (" + pid + ") gone");
            // press the button until the new guest's acpid is up to hear it
            long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (Optional.ofNullable(kvm.instanceInfo("off1")).orElseThrow().state() != InstanceState.SHUTDOWN
                    && System.nanoTime() < until) {
                KvmTestNode.qmp(kvm, "off1", "system_powerdown");
                Thread.sleep(2000);
            }
            awaitState(kvm, "off1", InstanceState.SHUTDOWN);
            pid = second;

            // a stop whose deadline is far away ends as soon as QEMU is told to quit (the bound guards a hang)
            Instance running = Optional.ofNullable(kvm.runningInstance("off1")).orElseThrow();
            assertTimeoutPreemptively(Duration.ofSeconds(120),
                    () -> kvm.stopInstance(running, false, Duration.ofMinutes(10)));
            assertEquals(List.of(), kvm.listInstances());
            assertTrue(!running(pid), "QEMU is gone");
        } finally {
            kvm.stopInstanceByName("off1");
            if (kvm.knownInstances().contains("off1")) {
                kvm.cleanupInstance("off1");
            }
            kvm.close();
        }
    }

    @Test
    void aCleanStopOfARunningGuestUnderNoShutdownEndsTheProcess() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        Instance guest = KvmTestNode.guest("off2", null, null).hvparam("user_shutdown", true).build();
        try {
            kvm.startInstance(guest, false);
            awaitLog(root, "off2", "HEARTBEAT 1", Duration.ofSeconds(60));
            Instance running = Optional.ofNullable(kvm.runningInstance("off2")).orElseThrow();
            assertTimeoutPreemptively(Duration.ofSeconds(120),
                    () -> kvm.stopInstance(running, false, Duration.ofMinutes(10)));
            assertTrue(KvmTestNode.serialLog(root, "off2").contains("GUEST-POWERDOWN"), "a clean powerdown");
            assertEquals(List.of(), kvm.listInstances());
        } finally {
            kvm.stopInstanceByName("off2");
            if (kvm.knownInstances().contains("off2")) {
                kvm.cleanupInstance("off2");
            }
            kvm.close();
        }
    }

    /** Whether {@code pid} runs (a zombie, which nobody in this test's namespace reaps, does not). */
    private static boolean running(long pid) {
        return !new org.hvkit.kvm.internal.process.QemuProcesses().isZombieOrGone(pid);
    }

    private static void awaitState(KvmHypervisor kvm, String name, InstanceState want) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        InstanceState seen = null;
        while (System.nanoTime() < deadline) {
            seen = Optional.ofNullable(kvm.instanceInfo(name)).map(i -> i.state()).orElse(null);
            if (seen == want) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(name + " is " + seen + ", not " + want + ", 30 s after the guest powered off");
    }
}
