package org.hvkit.netdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.hvkit.netdev.internal.SchedCpuAffinity;
import org.junit.jupiter.api.Test;

/** sched_setaffinity on this JVM's own threads (any user may narrow its own threads). */
class CpuAffinityTest {

    private final CpuAffinity affinity = new SchedCpuAffinity();

    static String allowedList(long pid, long tid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "task", Long.toString(tid), "status"))) {
            if (line.startsWith("Cpus_allowed_list:")) {
                return line.substring("Cpus_allowed_list:".length()).strip();
            }
        }
        throw new AssertionError("no Cpus_allowed_list for task " + tid);
    }

    private static SortedSet<Integer> cpus(int... c) {
        SortedSet<Integer> s = new TreeSet<>();
        for (int i : c) {
            s.add(i);
        }
        return s;
    }

    @Test
    void hostCpusIsWhatTheKernelConfigured() throws Exception {
        String possible = Files.readString(Path.of("/sys/devices/system/cpu/possible")).strip();
        int last = Integer.parseInt(possible.substring(possible.lastIndexOf('-') + 1));
        assertEquals(last + 1, affinity.hostCpus(), possible);
    }

    @Test
    void onePinnedThreadAndTheWholeProcess() throws Exception {
        int host = affinity.hostCpus();
        int cpu = host - 1;
        CountDownLatch pinned = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        long[] tid = new long[1];
        Thread t = new Thread(() -> {
            try {
                tid[0] = Long.parseLong(Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString());
                pinned.countDown();
                done.await(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        t.start();
        try {
            assertTrue(pinned.await(60, TimeUnit.SECONDS));
            long pid = ProcessHandle.current().pid();
            affinity.setThread(tid[0], cpus(cpu));
            assertEquals(Integer.toString(cpu), allowedList(pid, tid[0]));
            assertEquals(cpus(cpu), affinity.get(tid[0]));
            SortedSet<Integer> all = new TreeSet<>();
            for (int i = 0; i < host; i++) {
                all.add(i);
            }
            List<Long> set = affinity.setProcess(pid, all);
            assertTrue(set.contains(pid) && set.contains(tid[0]), set.toString());
            assertEquals(all, affinity.get(tid[0]));
        } finally {
            done.countDown();
            t.join(60_000);
        }
    }

    @Test
    void refusals() {
        int host = affinity.hostCpus();
        IllegalArgumentException beyond = assertThrows(IllegalArgumentException.class,
                () -> affinity.setThread(ProcessHandle.current().pid(), cpus(0, host + 5)));
        assertEquals("CPU " + (host + 5) + " does not exist on this host: it has " + host + " CPUs (0-" + (host - 1)
                + ")", beyond.getMessage());
        assertThrows(IllegalArgumentException.class, () -> affinity.setThread(ProcessHandle.current().pid(), cpus()));
        assertThrows(IllegalArgumentException.class, () -> affinity.setThread(ProcessHandle.current().pid(), cpus(-1)));
        assertThrows(IllegalArgumentException.class, () -> affinity.setThread(0, cpus(0)));
        assertThrows(IllegalArgumentException.class, () -> affinity.setThread(1L << 40, cpus(0)));
        assertThrows(IllegalArgumentException.class, () -> affinity.setProcess(ProcessHandle.current().pid(),
                cpus(host)));
    }

    @Test
    void goneThreadsAndProcesses() throws Exception {
        Process p = new ProcessBuilder("true").start();
        long pid = p.pid();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        NativeException thread = assertThrows(NativeException.class, () -> affinity.setThread(pid, cpus(0)));
        assertEquals(3, thread.errno(), thread.getMessage());
        NativeException process = assertThrows(NativeException.class, () -> affinity.setProcess(pid, cpus(0)));
        assertEquals("Failed to set the CPU affinity of process " + pid + ": no such process (/proc/" + pid
                + "/task is missing)", process.getMessage());
    }
}
