package org.hvkit.kvm.internal.process;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.CpuMasks;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.monitor.QmpClient;
import org.hvkit.kvm.internal.monitor.QmpException;
import org.hvkit.netdev.CpuAffinity;
import org.hvkit.netdev.NativeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code cpu_mask} pinning, as Ganeti 3.0's {@code _ExecuteCpuAffinity},
 * {@code _AssignCpuAffinity} and {@code _GetVcpuThreadIds} ({@code lib/hypervisor/hv_kvm/__init__.py})
 * do it while the guest is still stopped: one mask (other than {@code all}) pins the whole QEMU
 * process, every thread of it; one mask per vCPU pins each vCPU's thread, {@code all} there
 * meaning every CPU of the host. Ganeti reads the thread ids from HMP's {@code info cpus};
 * hvkit asks QMP ({@code query-cpus-fast}, or {@code query-cpus} before QEMU 2.12) and pins only
 * threads that belong to the QEMU process.
 */
public final class CpuPinning {

    private static final Logger LOG = LoggerFactory.getLogger(CpuPinning.class);
    /** More vCPUs than this in a QMP answer is not an answer about this guest ({@code MAX_CPU} + 1). */
    private static final int MAX_VCPUS = CpuMasks.MAX_CPU + 1;

    private final CpuAffinity affinity;
    private final Path proc;

    public CpuPinning(CpuAffinity affinity) {
        this(affinity, Path.of("/proc"));
    }

    CpuPinning(CpuAffinity affinity, Path proc) {
        this.affinity = affinity;
        this.proc = proc;
    }

    /**
     * What to pin.
     *
     * @param process the CPUs of every thread of QEMU (one mask), or null
     * @param vcpus   the CPUs of vCPU i's thread (one mask per vCPU), or empty
     */
    public record Plan(SortedSet<Integer> process, List<SortedSet<Integer>> vcpus) {
        public Plan {
            vcpus = List.copyOf(vcpus);
        }
    }

    /**
     * The plan for {@code mask} on this host, null for {@code all} (or empty): nothing to pin.
     *
     * @throws HypervisorException naming cpu_mask and the host's CPU count when the mask names a
     *                             CPU this host does not have
     */
    public Plan plan(String mask) throws HypervisorException {
        if (mask == null || mask.isEmpty() || CpuMasks.ALL_TEXT.equals(mask)) {
            return null;
        }
        List<List<Integer>> parsed;
        try {
            parsed = CpuMasks.parseMulti(mask);
        } catch (IllegalArgumentException e) {
            throw new HypervisorException("cpu_mask " + mask + ": " + e.getMessage(), e);
        }
        int host = affinity.hostCpus();
        List<SortedSet<Integer>> sets = new ArrayList<>();
        for (List<Integer> cpus : parsed) {
            SortedSet<Integer> set = new TreeSet<>();
            if (cpus.equals(List.of(CpuMasks.ALL))) {
                for (int i = 0; i < host; i++) {
                    set.add(i);
                }
            } else {
                set.addAll(cpus);
            }
            if (set.last() >= host) {
                throw new HypervisorException("cpu_mask " + mask + " names CPU " + set.last() + ", but this host has "
                        + host + " CPUs (0-" + (host - 1) + ")");
            }
            sets.add(Collections.unmodifiableSortedSet(set));
        }
        if (sets.size() == 1) {
            // one "all" pins nothing (Ganeti: "If CPU pinning has 1 entry that's all, then do nothing")
            return parsed.get(0).equals(List.of(CpuMasks.ALL)) ? null : new Plan(sets.get(0), List.of());
        }
        return new Plan(null, sets);
    }

    /** Pins QEMU process {@code pid} as {@code plan} says (nothing for a null plan). */
    public void apply(Plan plan, long pid, QmpClient qmp, QemuCapabilities caps) throws HypervisorException {
        if (plan == null) {
            return;
        }
        try {
            if (plan.process() != null) {
                List<Long> threads = affinity.setProcess(pid, plan.process());
                LOG.info("Pinned the {} threads of QEMU pid {} to CPUs {}", threads.size(), pid, plan.process());
                return;
            }
            Map<Integer, Long> threads = vcpuThreads(pid, qmp, caps);
            if (threads.size() != plan.vcpus().size()) {
                throw new HypervisorException("cpu_mask has " + plan.vcpus().size() + " masks but QEMU reports "
                        + threads.size() + " vCPUs");
            }
            Map<Long, SortedSet<Integer>> byThread = new HashMap<>();
            for (int i = 0; i < plan.vcpus().size(); i++) {
                SortedSet<Integer> earlier = byThread.putIfAbsent(threads.get(i), plan.vcpus().get(i));
                if (earlier != null && !earlier.equals(plan.vcpus().get(i))) {
                    throw new HypervisorException("cpu_mask: QEMU runs vCPU " + i + " on the same thread as an"
                            + " earlier vCPU (single-threaded TCG), so they cannot have different masks");
                }
            }
            for (int i = 0; i < plan.vcpus().size(); i++) {
                affinity.setThread(threads.get(i), plan.vcpus().get(i));
                LOG.info("Pinned vCPU {} (thread {}) of QEMU pid {} to CPUs {}", i, threads.get(i), pid,
                        plan.vcpus().get(i));
            }
        } catch (NativeException | IllegalArgumentException e) {
            throw new HypervisorException("Failed to pin QEMU pid " + pid + " (cpu_mask): " + e.getMessage(), e);
        }
    }

    /**
     * vCPU index → thread id, from {@code query-cpus-fast} ({@code thread-id}) where this QEMU
     * serves it, else {@code query-cpus} ({@code thread_id}); every id must be a thread of
     * {@code pid} (a QEMU's answer is not trusted to name other processes' threads).
     */
    Map<Integer, Long> vcpuThreads(long pid, QmpClient qmp, QemuCapabilities caps) throws HypervisorException {
        boolean fast = caps.qmp() != null ? caps.qmp().commands().contains("query-cpus-fast") : caps.atLeast(2, 12);
        boolean old = caps.qmp() != null ? caps.qmp().commands().contains("query-cpus") : !caps.atLeast(6, 0);
        if (!fast && !old) {
            throw new HypervisorException("cpu_mask: this QEMU serves neither query-cpus-fast nor query-cpus over QMP,"
                    + " so its vCPU threads are unknown");
        }
        String command = fast ? "query-cpus-fast" : "query-cpus";
        JsonNode answer;
        try {
            answer = qmp.execute(command, Map.of());
        } catch (QmpException e) {
            throw new HypervisorException("cpu_mask: QMP " + command + ": " + e.getMessage(), e);
        }
        if (!answer.isArray() || answer.size() > MAX_VCPUS) {
            throw new HypervisorException("cpu_mask: QMP " + command + " did not answer a list of vCPUs");
        }
        Map<Integer, Long> threads = new TreeMap<>();
        for (JsonNode cpu : answer) {
            JsonNode index = cpu.path(fast ? "cpu-index" : "CPU");
            JsonNode tid = cpu.path(fast ? "thread-id" : "thread_id");
            if (!index.canConvertToInt() || !tid.canConvertToLong() || !index.isIntegralNumber()
                    || !tid.isIntegralNumber() || index.asInt() < 0 || index.asInt() >= answer.size()
                    || tid.asLong() <= 0 || threads.put(index.asInt(), tid.asLong()) != null) {
                throw new HypervisorException("cpu_mask: QMP " + command + " answered a vCPU without a distinct index"
                        + " and a thread id: " + shortText(cpu));
            }
            if (!Files.isDirectory(proc.resolve(Long.toString(pid)).resolve("task").resolve(Long.toString(tid.asLong())))) {
                throw new HypervisorException("cpu_mask: QMP " + command + " names thread " + tid.asLong() + " for vCPU "
                        + index.asInt() + ", which is not a thread of QEMU pid " + pid);
            }
        }
        return threads;
    }

    /** A QMP answer's element for an error message, at most 200 characters. */
    private static String shortText(JsonNode n) {
        String t = n.toString();
        return t.length() <= 200 ? t : t.substring(0, 200) + "…";
    }
}
