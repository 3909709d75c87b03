package org.hvkit.kvm.internal.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.netdev.CpuAffinity;
import org.junit.jupiter.api.Test;

/** What {@code cpu_mask} pins on a 4-CPU host (Ganeti's {@code _AssignCpuAffinity}). */
class CpuPinningTest {

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
