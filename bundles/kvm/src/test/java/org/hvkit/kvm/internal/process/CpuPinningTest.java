package org.hvkit.kvm.internal.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.caps.HelpFixtures;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.monitor.FakeQmpPeer;
import org.hvkit.kvm.internal.monitor.QmpClient;
import org.hvkit.netdev.CpuAffinity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code cpu_mask} pins on a 4-CPU host (Ganeti's {@code _AssignCpuAffinity}), and what
 * hvkit believes of QEMU's answer about its vCPU threads (a fake QMP peer, a fake /proc).
 */
class CpuPinningTest {

    private static final long PID = 500;

    @RegisterExtension
    final FakeQmpPeer peer = FakeQmpPeer.forEachTest();

    @TempDir
    Path proc;

    /** The threads pinned, as "tid:cpus". */
    private final List<String> pinned = new ArrayList<>();

    private final CpuAffinity recording = new CpuAffinity() {
        @Override
        public int hostCpus() {
            return 4;
        }

        @Override
        public void setThread(long tid, SortedSet<Integer> cpus) {
            pinned.add(tid + ":" + cpus);
        }

        @Override
        public List<Long> setProcess(long pid, SortedSet<Integer> cpus) {
            pinned.add("process " + pid + ":" + cpus);
            return List.of(pid);
        }

        @Override
        public SortedSet<Integer> get(long tid) {
            throw new AssertionError("not here");
        }
    };

    private CpuPinning withThreads(long... tids) throws Exception {
        for (long t : tids) {
            Files.createDirectories(proc.resolve(PID + "/task/" + t));
        }
        return new CpuPinning(recording, proc);
    }

    private void apply(CpuPinning p, String mask, QemuCapabilities caps) throws Exception {
        try (QmpClient qmp = peer.connect()) {
            p.apply(p.plan(mask), PID, qmp, caps);
        }
    }

    private static final QemuCapabilities QEMU_72 = HelpFixtures.capabilities("qemu-7.2.22");

    @Test
    void eachVcpuThreadFromQueryCpusFast() throws Exception {
        peer.on("query-cpus-fast", FakeQmpPeer.ok("[{\"cpu-index\": 1, \"thread-id\": 102, \"target\": \"x86_64\"},"
                + " {\"cpu-index\": 0, \"thread-id\": 101}]"));
        apply(withThreads(PID, 101, 102), "0-1:all", QEMU_72);
        assertEquals(List.of("101:[0, 1]", "102:[0, 1, 2, 3]"), pinned);
    }

    @Test
    void olderQemuAnswersQueryCpus() throws Exception {
        peer.on("query-cpus", FakeQmpPeer.ok("[{\"CPU\": 0, \"thread_id\": 101}, {\"CPU\": 1, \"thread_id\": 102}]"));
        apply(withThreads(101, 102), "3:2", HelpFixtures.capabilities("qemu-kvm-1.0"));
        assertEquals(List.of("101:[3]", "102:[2]"), pinned);
        assertEquals(0, peer.count("query-cpus-fast"));
    }

    /** A QEMU probed over QMP whose command list decides: query-cpus only (QEMU 1.2 to 2.11), or neither. */
    @Test
    void theProbedCommandListChoosesTheQuery() throws Exception {
        peer.on("query-cpus", FakeQmpPeer.ok("[{\"CPU\": 1, \"thread_id\": 102}, {\"CPU\": 0, \"thread_id\": 101}]"));
        apply(withThreads(101, 102), "0:3", probed(2, 11, java.util.Set.of("query-status", "query-cpus")));
        assertEquals(List.of("101:[0]", "102:[3]"), pinned);
        assertEquals(0, peer.count("query-cpus-fast"));

        HypervisorException e = assertThrows(HypervisorException.class,
                () -> apply(withThreads(101, 102), "0:3", probed(2, 11, java.util.Set.of("query-status"))));
        assertEquals("cpu_mask: this QEMU serves neither query-cpus-fast nor query-cpus over QMP, so its vCPU threads"
                + " are unknown", e.getMessage());
    }

    /** Capabilities of a QEMU x.y whose QMP probe listed {@code commands}. */
    private static QemuCapabilities probed(int major, int minor, java.util.Set<String> commands) {
        QemuCapabilities help = HelpFixtures.capabilities("qemu-kvm-1.0");
        return help.withQmp(new org.hvkit.kvm.internal.caps.QmpFacts(major, minor, 0, "", commands, java.util.Map.of(),
                "", java.util.Set.of(), java.util.Map.of(), false, java.util.Set.of()));
    }

    @Test
    void oneMaskPinsTheProcessWithoutAskingQemu() throws Exception {
        apply(withThreads(), "2", QEMU_72);
        assertEquals(List.of("process " + PID + ":[2]"), pinned);
        assertEquals(0, peer.count("query-cpus-fast"));
    }

    @Test
    void answersThatAreNotAboutThisQemusThreadsAreRefused() throws Exception {
        CpuPinning p = withThreads(101, 102);
        String[][] cases = {
            {"[{\"cpu-index\": 0, \"thread-id\": 101}, {\"cpu-index\": 1, \"thread-id\": 1}]",
                "cpu_mask: QMP query-cpus-fast names thread 1 for vCPU 1, which is not a thread of QEMU pid 500"},
            {"[{\"cpu-index\": 0, \"thread-id\": 101}, {\"cpu-index\": 0, \"thread-id\": 102}]",
                "cpu_mask: QMP query-cpus-fast answered a vCPU without a distinct index and a thread id:"
                + " {\"cpu-index\":0,\"thread-id\":102}"},
            {"[{\"cpu-index\": 0, \"thread-id\": \"101\"}, {\"cpu-index\": 1, \"thread-id\": 102}]",
                "cpu_mask: QMP query-cpus-fast answered a vCPU without a distinct index and a thread id:"
                + " {\"cpu-index\":0,\"thread-id\":\"101\"}"},
            {"[{\"cpu-index\": 0, \"thread-id\": -5}, {\"cpu-index\": 1, \"thread-id\": 102}]",
                "cpu_mask: QMP query-cpus-fast answered a vCPU without a distinct index and a thread id:"
                + " {\"cpu-index\":0,\"thread-id\":-5}"},
            {"[{\"cpu-index\": 0, \"thread-id\": 101}, {\"cpu-index\": 7, \"thread-id\": 102}]",
                "cpu_mask: QMP query-cpus-fast answered a vCPU without a distinct index and a thread id:"
                + " {\"cpu-index\":7,\"thread-id\":102}"},
            {"{\"cpu-index\": 0}", "cpu_mask: QMP query-cpus-fast did not answer a list of vCPUs"},
            {"[{\"cpu-index\": 0, \"thread-id\": 101}]", "cpu_mask has 2 masks but QEMU reports 1 vCPUs"},
            {"[{\"cpu-index\": 0, \"thread-id\": 101}, {\"cpu-index\": 1, \"thread-id\": 101}]",
                "cpu_mask: QEMU runs vCPU 1 on the same thread as an earlier vCPU (single-threaded TCG), so they"
                + " cannot have different masks"},
        };
        for (String[] c : cases) {
            peer.on("query-cpus-fast", FakeQmpPeer.ok(c[0]));
            HypervisorException e = assertThrows(HypervisorException.class, () -> apply(p, "0:1", QEMU_72), c[0]);
            assertEquals(c[1], e.getMessage(), c[0]);
        }
        assertEquals(List.of(), pinned, "nothing pinned on a bad answer");
    }

    /** A host with 4 CPUs that pins nothing (only the plan is under test here). */
    private static final CpuAffinity FOUR = new CpuAffinity() {
        @Override
        public int hostCpus() {
            return 4;
        }

        @Override
        public void setThread(long tid, SortedSet<Integer> cpus) {
            throw new AssertionError("not here");
        }

        @Override
        public List<Long> setProcess(long pid, SortedSet<Integer> cpus) {
            throw new AssertionError("not here");
        }

        @Override
        public SortedSet<Integer> get(long tid) {
            throw new AssertionError("not here");
        }
    };

    private final CpuPinning pinning = new CpuPinning(FOUR);

    private static SortedSet<Integer> cpus(Integer... c) {
        return new TreeSet<>(List.of(c));
    }

    @Test
    void allAndEmptyPinNothing() throws HypervisorException {
        assertNull(pinning.plan("all"));
        assertNull(pinning.plan(""));
        assertNull(pinning.plan(null));
    }

    @Test
    void oneMaskPinsTheProcess() throws HypervisorException {
        assertEquals(new CpuPinning.Plan(cpus(1, 2, 3), List.of()), pinning.plan("3,1-2"));
    }

    @Test
    void oneMaskPerVcpuWithAllMeaningEveryHostCpu() throws HypervisorException {
        assertEquals(new CpuPinning.Plan(null, List.of(cpus(0, 1), cpus(0, 1, 2, 3), cpus(3))),
                pinning.plan("0-1:all:3"));
        assertEquals(new CpuPinning.Plan(null, List.of(cpus(0, 1, 2, 3), cpus(0, 1, 2, 3))), pinning.plan("all:all"));
    }

    @Test
    void cpusBeyondTheHostAndBadMasksAreClearErrors() {
        assertEquals("cpu_mask 0:7 names CPU 7, but this host has 4 CPUs (0-3)",
                assertThrows(HypervisorException.class, () -> pinning.plan("0:7")).getMessage());
        assertEquals("cpu_mask 4 names CPU 4, but this host has 4 CPUs (0-3)",
                assertThrows(HypervisorException.class, () -> pinning.plan("4")).getMessage());
        assertEquals("cpu_mask 0-8191 names CPU 8191, but this host has 4 CPUs (0-3)",
                assertThrows(HypervisorException.class, () -> pinning.plan("0-8191")).getMessage());
        assertEquals("cpu_mask 1::2: Empty CPU mask between colons",
                assertThrows(HypervisorException.class, () -> pinning.plan("1::2")).getMessage());
    }
}
