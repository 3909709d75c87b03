package org.hvkit.hypervisor;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resources of the node as Ganeti reports them.
 *
 * @param memoryTotal MiB of RAM in all
 * @param memoryFree  MiB available for new instances
 * @param memoryDom0  MiB used by the node itself ({@code total - free})
 * @param cpuTotal    logical CPUs
 * @param cpuNodes    NUMA nodes (Ganeti reports 1)
 * @param cpuSockets  CPU sockets
 */
public record NodeInfo(long memoryTotal, long memoryFree, long memoryDom0, int cpuTotal, int cpuNodes,
                       int cpuSockets) implements Serializable {

    private static final long serialVersionUID = 1L;

    private static final Pattern MEMINFO_LINE = Pattern.compile("^(\\w+):\\s*(\\d+)(?:\\s*kB)?\\s*$");
    private static final Pattern PROCESSOR_LINE = Pattern.compile("^processor\\s*:\\s*[0-9]+\\s*$");
    private static final Pattern PHYSICAL_ID_LINE = Pattern.compile("^physical id\\s*:\\s*(\\d+)\\s*$");

    /**
     * This machine's host name, the node name a hypervisor falls back to when none is configured
     * (Ganeti's {@code netutils.Hostname.GetSysName}); {@code localhost} when it cannot be read.
     * Since 1.2.
     */
    public static String hostname() {
        try {
            return java.nio.file.Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }

    /** Reads the running Linux node's {@code /proc/meminfo} and {@code /proc/cpuinfo}. */
    public static NodeInfo ofLinux() throws HypervisorException {
        return ofLinux(Path.of("/proc/meminfo"), Path.of("/proc/cpuinfo"));
    }

    /**
     * Ganeti's Linux node info ({@code hv_base.BaseHypervisor.GetLinuxNodeInfo}, newest
     * formula): free memory is {@code MemAvailable} where the kernel has it, else
     * {@code MemFree + Buffers + Cached} (each floored to MiB separately, as Ganeti 2011 did);
     * dom0 memory is total minus free; CPUs are the {@code processor : N} lines.
     */
    public static NodeInfo ofLinux(Path meminfo, Path cpuinfo) throws HypervisorException {
        List<String> memLines;
        List<String> cpuLines;
        try {
            memLines = Files.readAllLines(meminfo, StandardCharsets.US_ASCII);
            cpuLines = Files.readAllLines(cpuinfo, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new HypervisorException("Failed to list node info: " + e, e);
        }
        Map<String, Long> kb = new HashMap<>();
        for (String line : memLines) {
            Matcher m = MEMINFO_LINE.matcher(line);
            if (m.matches()) {
                kb.put(m.group(1), Long.parseLong(m.group(2)));
            }
        }
        long total;
        long free;
        try {
            total = need(kb, "MemTotal") / 1024;
            if (kb.containsKey("MemAvailable")) {
                free = kb.get("MemAvailable") / 1024;
            } else {
                free = need(kb, "MemFree") / 1024 + need(kb, "Buffers") / 1024 + need(kb, "Cached") / 1024;
            }
        } catch (IllegalStateException e) {
            throw new HypervisorException("Failed to compute memory usage: " + e.getMessage(), e);
        }
        int cpus = 0;
        Set<String> sockets = new HashSet<>();
        for (String line : cpuLines) {
            if (PROCESSOR_LINE.matcher(line).matches()) {
                cpus++;
            }
            Matcher m = PHYSICAL_ID_LINE.matcher(line);
            if (m.matches()) {
                sockets.add(m.group(1));
            }
        }
        return new NodeInfo(total, free, total - free, cpus, 1, Math.max(1, sockets.size()));
    }

    private static long need(Map<String, Long> kb, String key) {
        Long v = kb.get(key);
        if (v == null) {
            throw new IllegalStateException(key + " missing from meminfo");
        }
        return v;
    }
}
