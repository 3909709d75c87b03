package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.netdev.CpuAffinity;
import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.internal.SchedCpuAffinity;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cpu_mask} on real QEMU 7.2 (TCG, one thread per vCPU) with the real test guest: what
 * the kernel says each thread may run on ({@code Cpus_allowed_list}). Needs a host with at
 * least 2 CPUs.
 */
class KvmCpuPinningTest {

    @TempDir
    Path tmp;
    Path root;

    /** The bridge goes with the class: later test classes in this JVM's namespace count links. */
    @AfterAll
    static void removeBridge() throws Exception {
        KvmTestNode.removeBridge("brpin");
    }

    @BeforeEach
    void setUp() throws Exception {
        KvmTestNode.requireRealQemu();
        org.hvkit.netdev.NativeTests.require("cpu_mask pinning test", new SchedCpuAffinity().hostCpus() < 2
                ? "this host has fewer than 2 CPUs" : null);
        KvmTestNode.ensureBridge("brpin", null);
        root = tmp.resolve("kvm");
    }

    static String allowed(long pid, long tid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "task", Long.toString(tid), "status"))) {
            if (line.startsWith("Cpus_allowed_list:")) {
                return line.substring("Cpus_allowed_list:".length()).strip();
            }
        }
        throw new AssertionError("no Cpus_allowed_list for thread " + tid + " of " + pid);
    }

    private static List<Long> tasks(long pid) throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return s.map(p -> Long.parseLong(p.getFileName().toString())).sorted().toList();
        }
    }

    private static Instance guest(String name, int vcpus, String mask) throws Exception {
        return KvmTestNode.guest(name, "brpin", null).memory(64).vcpus(vcpus).hvparam("cpu_mask", mask).build();
    }

    @Test
    void oneMaskPerVcpuPinsEachVcpuThread() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        try {
            kvm.startInstance(guest("pin2", 2, "0:1"), false);
            long pid = Optional.ofNullable(kvm.instanceInfo("pin2")).orElseThrow().pid();
            JsonNode cpus = KvmTestNode.qmp(kvm, "pin2", "query-cpus-fast");
            assertEquals(2, cpus.size(), cpus.toString());
            List<String> seen = new ArrayList<>();
            for (JsonNode cpu : cpus) {
                long tid = cpu.path("thread-id").asLong();
                seen.add("vCPU " + cpu.path("cpu-index").asInt() + " thread " + tid + ": " + allowed(pid, tid));
                assertEquals(Integer.toString(cpu.path("cpu-index").asInt()), allowed(pid, tid), seen.toString());
            }
            assertFalse(allowed(pid, pid).equals("0") || allowed(pid, pid).equals("1"),
                    "the main thread stays unpinned: " + allowed(pid, pid));
            System.out.println("cpu_mask 0:1 on QEMU pid " + pid + ": " + seen);
            // a soft reboot starts a new QEMU from the saved runtime: pinned again
            kvm.rebootInstance(guest("pin2", 2, "0:1"));
            long pid2 = Optional.ofNullable(kvm.instanceInfo("pin2")).orElseThrow().pid();
            assertTrue(pid2 != pid, "a new QEMU");
            for (JsonNode cpu : KvmTestNode.qmp(kvm, "pin2", "query-cpus-fast")) {
                assertEquals(Integer.toString(cpu.path("cpu-index").asInt()),
                        allowed(pid2, cpu.path("thread-id").asLong()), "after reboot");
            }
        } finally {
            kvm.stopInstanceByName("pin2");
            kvm.cleanupInstance("pin2");
            kvm.close();
        }
    }

    @Test
    void oneMaskPinsEveryThreadOfTheProcess() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        try {
            kvm.startInstance(guest("pin1", 2, "1"), false);
            long pid = Optional.ofNullable(kvm.instanceInfo("pin1")).orElseThrow().pid();
            List<Long> tasks = tasks(pid);
            assertTrue(tasks.size() > 2, "QEMU runs several threads: " + tasks);
            List<String> seen = new ArrayList<>();
            for (long tid : tasks) {
                seen.add(tid + ":" + allowed(pid, tid));
            }
            assertTrue(seen.stream().allMatch(s -> s.endsWith(":1")), seen.toString());
            System.out.println("cpu_mask 1 on QEMU pid " + pid + ": " + seen);
        } finally {
            kvm.stopInstanceByName("pin1");
            kvm.cleanupInstance("pin1");
            kvm.close();
        }
    }

    /** A migration target pins its QEMU when it accepts, before any migration data arrives. */
    @Test
    void aMigrationTargetPinsWhenItAccepts() throws Exception {
        KvmHypervisor a = KvmTestNode.node("node-a", tmp.resolve("a"), KvmTestNode.QEMU, false, null);
        KvmHypervisor b = KvmTestNode.node("node-b", tmp.resolve("b"), KvmTestNode.QEMU, false, null);
        Instance guest = guest("pinmig", 2, "1:0");
        try {
            a.startInstance(guest, true);
            org.hvkit.hypervisor.MigrationInfo info = a.migrationInfo(guest);
            b.acceptInstance(guest, info, "127.0.0.1");
            long pid = KvmTestNode.core(b).alive("pinmig").orElseThrow().pid();
            List<String> seen = new ArrayList<>();
            for (JsonNode cpu : KvmTestNode.qmp(b, "pinmig", "query-cpus-fast")) {
                int index = cpu.path("cpu-index").asInt();
                String allowed = allowed(pid, cpu.path("thread-id").asLong());
                seen.add("vCPU " + index + ": " + allowed);
                assertEquals(index == 0 ? "1" : "0", allowed, "target vCPU " + index);
            }
            assertEquals(2, seen.size(), seen.toString());
            System.out.println("cpu_mask 1:0 on the migration target's QEMU pid " + pid + ": " + seen);
            b.finalizeMigration(guest, info, false);
        } finally {
            b.stopInstanceByName("pinmig");
            if (b.knownInstances().contains("pinmig")) {
                b.cleanupInstance("pinmig");
            }
            a.stopInstanceByName("pinmig");
            a.cleanupInstance("pinmig");
            a.close();
            b.close();
        }
    }

    /** vCPU index → Cpus_allowed_list of its thread in QEMU {@code pid} (threads from QMP query-cpus-fast). */
    private static java.util.Map<Integer, String> vcpuAffinity(KvmHypervisor kvm, String name, long pid) throws Exception {
        java.util.Map<Integer, String> out = new java.util.TreeMap<>();
        for (JsonNode cpu : KvmTestNode.qmp(kvm, name, "query-cpus-fast")) {
            out.put(cpu.path("cpu-index").asInt(), allowed(pid, cpu.path("thread-id").asLong()));
        }
        return out;
    }

    /**
     * cpu_mask after a completed migration: the target's QEMU keeps the pinning it got when it
     * accepted once the migration is finalized, and a reboot there pins the new QEMU again from
     * the saved runtime (Ganeti's up_hvp), without the source node.
     */
    @Test
    void aCompletedMigrationKeepsThePinningAndARebootOnTheTargetPinsAgain() throws Exception {
        KvmHypervisor a = KvmTestNode.node("node-a", tmp.resolve("a"), KvmTestNode.QEMU, false, null);
        KvmHypervisor b = KvmTestNode.node("node-b", tmp.resolve("b"), KvmTestNode.QEMU, false, null);
        // acpi off: the reboot's stop of this paused guest is a kill, not a wait for a powerdown it cannot do
        Instance guest = KvmTestNode.guest("pinmig2", "brpin", null).memory(64).vcpus(2).hvparam("cpu_mask", "1:0")
                .hvparam("acpi", false).build();
        java.util.Map<Integer, String> pinned = java.util.Map.of(0, "1", 1, "0");
        try {
            a.startInstance(guest, true);
            org.hvkit.hypervisor.MigrationInfo info = a.migrationInfo(guest);
            b.acceptInstance(guest, info, "127.0.0.1");
            a.migrateInstance(guest, "127.0.0.1", true);
            b.finalizeMigration(guest, info, true);
            long pid = KvmTestNode.core(b).alive("pinmig2").orElseThrow().pid();
            assertEquals(pinned, vcpuAffinity(b, "pinmig2", pid), "after the migration, on the target");
            a.stopInstanceByName("pinmig2");
            a.cleanupInstance("pinmig2");

            b.rebootInstance(b.runningInstance("pinmig2"));
            long rebooted = KvmTestNode.core(b).alive("pinmig2").orElseThrow().pid();
            assertTrue(rebooted != pid, "a new QEMU");
            assertEquals(pinned, vcpuAffinity(b, "pinmig2", rebooted), "after a reboot on the target");
            System.out.println("cpu_mask 1:0 after migration (pid " + pid + ") and reboot (pid " + rebooted + "): "
                    + vcpuAffinity(b, "pinmig2", rebooted));
        } finally {
            b.stopInstanceByName("pinmig2");
            if (b.knownInstances().contains("pinmig2")) {
                b.cleanupInstance("pinmig2");
            }
            a.stopInstanceByName("pinmig2");
            if (a.knownInstances().contains("pinmig2")) {
                a.cleanupInstance("pinmig2");
            }
            a.close();
            b.close();
        }
    }

    @Test
    void aCpuTheHostLacksIsAClearStartErrorAndLeavesNothing() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        int host = new SchedCpuAffinity().hostCpus();
        try {
            HypervisorException e = assertThrows(HypervisorException.class,
                    () -> kvm.startInstance(guest("pinbad", 2, "0:" + (host + 5)), false));
            assertEquals("Failed to start instance pinbad: cpu_mask 0:" + (host + 5) + " names CPU " + (host + 5)
                    + ", but this host has " + host + " CPUs (0-" + (host - 1) + ")", e.getMessage());
            assertNothingLeft(kvm, "pinbad");
        } finally {
            kvm.close();
        }
    }

    /** A pinning that fails once QEMU runs (here: the kernel refuses) undoes the whole start. */
    @Test
    void aPinningFailureAfterLaunchUndoesTheStart() throws Exception {
        CpuAffinity real = new SchedCpuAffinity();
        CpuAffinity refusing = new CpuAffinity() {
            @Override
            public int hostCpus() {
                return real.hostCpus();
            }

            @Override
            public void setThread(long tid, SortedSet<Integer> cpus) throws NativeException {
                throw new NativeException("Failed to set the CPU affinity of thread " + tid + ": Invalid argument"
                        + " (errno 22)", 22);
            }

            @Override
            public List<Long> setProcess(long pid, SortedSet<Integer> cpus) throws NativeException {
                throw new NativeException("Failed to set the CPU affinity of thread " + pid + ": Invalid argument"
                        + " (errno 22)", 22);
            }

            @Override
            public SortedSet<Integer> get(long tid) throws NativeException {
                return real.get(tid);
            }
        };
        NativeServices n = KvmTestNode.natives();
        KvmHypervisor kvm = KvmTestNode.open(KvmTestNode.settings("node-a", root, KvmTestNode.QEMU, false, null), null,
                new NativeServices(n.spawner(), n.taps(), n.netlink(), n.locks(), refusing));
        try {
            HypervisorException e = assertThrows(HypervisorException.class,
                    () -> kvm.startInstance(guest("pinfail", 2, "0:1"), false));
            assertTrue(e.getMessage().matches("Failed to pin QEMU pid \\d+ \\(cpu_mask\\): Failed to set the CPU affinity"
                    + " of thread \\d+: Invalid argument \\(errno 22\\)"), e.getMessage());
            assertNothingLeft(kvm, "pinfail");
        } finally {
            kvm.close();
        }
    }

    private void assertNothingLeft(KvmHypervisor kvm, String name) throws Exception {
        assertEquals(List.of(), kvm.listInstances());
        try (Stream<Path> s = Files.walk(root)) {
            assertEquals(List.of(), s.filter(Files::isRegularFile).map(root::relativize).map(Path::toString)
                    .filter(p -> !p.equals("kvm-ifup") && !p.equals("hvkit.lock") && !p.startsWith("caps/")).toList(),
                    "no runtime file left (the node's QEMU capability cache stays)");
        }
        try (Stream<Path> s = Files.list(Path.of("/sys/class/net"))) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(l -> l.startsWith("tap")).toList(),
                    "no tap left");
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            boolean qemu;
            try (Stream<ProcessHandle> p = ProcessHandle.allProcesses()) {
                qemu = p.anyMatch(h -> h.info().commandLine().orElse("").contains("-name " + name));
            }
            if (!qemu) {
                break;
            }
            assertTrue(System.nanoTime() < deadline, "no QEMU of " + name + " left");
            Thread.sleep(50);
        }
    }
}
