package org.hvkit.kvm.internal.stats;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.InstanceStats;

/**
 * Reads figures out of QEMU's QMP answers, which are input like any other: a field of the wrong
 * type or sign is {@link InstanceStats#UNKNOWN}, an entry without what identifies it is left
 * out, and no list grows beyond a bound.
 */
final class QmpFigures {

    /** More vCPUs or drives than any real guest has: beyond, the answer is cut. */
    static final int MAX_ENTRIES = 1024;

    private QmpFigures() {
    }

    /** A vCPU's index and host thread. */
    record VcpuThread(int index, long threadId) {
    }

    /** {@code query-cpus-fast}: {@code [{"cpu-index": 0, "thread-id": 1234, …}, …]}, ordered by index. */
    static List<VcpuThread> vcpuThreads(JsonNode answer) {
        List<VcpuThread> out = new ArrayList<>();
        if (answer == null || !answer.isArray()) {
            return out;
        }
        for (JsonNode cpu : answer) {
            if (out.size() >= MAX_ENTRIES) {
                break;
            }
            JsonNode index = cpu.path("cpu-index");
            JsonNode thread = cpu.path("thread-id");
            if (index.isIntegralNumber() && index.canConvertToInt() && index.asInt() >= 0
                    && thread.isIntegralNumber() && thread.canConvertToLong() && thread.asLong() > 0) {
                out.add(new VcpuThread(index.asInt(), thread.asLong()));
            }
        }
        out.sort(Comparator.comparingInt(VcpuThread::index));
        return out;
    }

    /**
     * {@code query-blockstats}: {@code [{"device": "virtio0", "qdev": …, "node-name": …, "stats":
     * {"rd_bytes": …, "wr_bytes": …, "rd_operations": …, "wr_operations": …}}, …]}. A drive
     * is named by its device id, else its qdev path, else its node name. A drive without a
     * medium (the empty cdrom, floppy and sd slots the machine type brings) has no node name
     * and is left out.
     */
    static List<InstanceStats.DiskStats> disks(JsonNode answer) {
        List<InstanceStats.DiskStats> out = new ArrayList<>();
        if (answer == null || !answer.isArray()) {
            return out;
        }
        for (JsonNode drive : answer) {
            if (out.size() >= MAX_ENTRIES) {
                break;
            }
            JsonNode stats = drive.path("stats");
            String name = firstText(drive, "device", "qdev", "node-name");
            if (!stats.isObject() || name.isEmpty() || firstText(drive, "node-name").isEmpty()) {
                continue;
            }
            out.add(new InstanceStats.DiskStats(name, counter(stats, "rd_bytes"), counter(stats, "wr_bytes"),
                    counter(stats, "rd_operations"), counter(stats, "wr_operations")));
        }
        return out;
    }

    /** {@code query-balloon}: {@code {"actual": bytes}}; {@link InstanceStats#UNKNOWN} when absent or not a size. */
    static long balloonBytes(JsonNode answer) {
        return answer == null ? InstanceStats.UNKNOWN : counter(answer, "actual");
    }

    private static long counter(JsonNode object, String field) {
        JsonNode v = object.path(field);
        return v.isIntegralNumber() && v.canConvertToLong() && v.asLong() >= 0 ? v.asLong() : InstanceStats.UNKNOWN;
    }

    /** The first of {@code fields} that is a non-empty string of at most 256 characters without control characters. */
    private static String firstText(JsonNode object, String... fields) {
        for (String f : fields) {
            JsonNode v = object.path(f);
            if (v.isTextual() && !v.asText().isEmpty() && v.asText().length() <= 256
                    && v.asText().chars().noneMatch(Character::isISOControl)) {
                return v.asText();
            }
        }
        return "";
    }
}
