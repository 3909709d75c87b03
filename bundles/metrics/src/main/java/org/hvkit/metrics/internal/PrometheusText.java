package org.hvkit.metrics.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.InstanceStats;
import org.hvkit.hypervisor.InstanceStats.DiskStats;
import org.hvkit.hypervisor.InstanceStats.NicStats;

/**
 * The Prometheus text exposition format, version 0.0.4, of one statistics pass: every metric
 * family once with its {@code # HELP} and {@code # TYPE} and then its samples. A figure that is
 * not known ({@link InstanceStats#UNKNOWN}) has no sample: it is left out, never exported as -1.
 */
final class PrometheusText {

    /** The HTTP Content-Type of this format. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private PrometheusText() {
    }

    /** One metric family: name, type, help and its samples in order. */
    private static final class Family {
        final String name;
        final String type;
        final String help;
        final StringBuilder samples = new StringBuilder();

        Family(String name, String type, String help) {
            this.name = name;
            this.type = type;
            this.help = help;
        }

        void add(Map<String, String> labels, double value) {
            samples.append(name).append(labels(labels)).append(' ').append(number(value)).append('\n');
        }
    }

    /**
     * The text of one pass.
     *
     * @param stats    every instance's figures, in the order they should appear
     * @param nodes    every node asked, with whether its answer came back in time
     * @param seconds  how long the pass took, in seconds
     */
    static String format(List<InstanceStats> stats, Map<String, Boolean> nodes, double seconds) {
        Map<String, Family> f = new LinkedHashMap<>();
        Family up = family(f, "hvkit_instance_up", "gauge",
                "1 when the instance's hypervisor process runs and answers (running or paused), 0 otherwise");
        Family stale = family(f, "hvkit_instance_stale", "gauge",
                "1 when some of the instance's figures could not be read in time (a hung or stopping QEMU)");
        Family cpu = family(f, "hvkit_instance_cpu_seconds_total", "counter",
                "CPU time (user + system) of the instance's hypervisor process, every thread, in seconds");
        Family rss = family(f, "hvkit_instance_resident_memory_bytes", "gauge",
                "Resident memory of the instance's hypervisor process in bytes");
        Family balloon = family(f, "hvkit_instance_balloon_memory_bytes", "gauge",
                "The guest's current memory as its balloon device reports it, in bytes");
        Family uptime = family(f, "hvkit_instance_uptime_seconds", "gauge",
                "How long the instance's hypervisor process has run, in seconds");
        Family vcpuCpu = family(f, "hvkit_instance_vcpu_cpu_seconds_total", "counter",
                "CPU time of one virtual CPU's host thread, in seconds");
        Family diskRead = family(f, "hvkit_instance_disk_read_bytes_total", "counter",
                "Bytes the guest read from one disk, as the hypervisor counts them");
        Family diskWritten = family(f, "hvkit_instance_disk_written_bytes_total", "counter",
                "Bytes the guest wrote to one disk, as the hypervisor counts them");
        Family diskReads = family(f, "hvkit_instance_disk_reads_total", "counter",
                "Read requests of the guest to one disk, completed");
        Family diskWrites = family(f, "hvkit_instance_disk_writes_total", "counter",
                "Write requests of the guest to one disk, completed");
        Family rxBytes = family(f, "hvkit_instance_network_receive_bytes_total", "counter",
                "Bytes delivered to the guest through one NIC");
        Family txBytes = family(f, "hvkit_instance_network_transmit_bytes_total", "counter",
                "Bytes the guest sent through one NIC");
        Family rxPackets = family(f, "hvkit_instance_network_receive_packets_total", "counter",
                "Packets delivered to the guest through one NIC");
        Family txPackets = family(f, "hvkit_instance_network_transmit_packets_total", "counter",
                "Packets the guest sent through one NIC");
        Family rxDrops = family(f, "hvkit_instance_network_receive_drops_total", "counter",
                "Packets for the guest that were dropped on one NIC");
        Family txDrops = family(f, "hvkit_instance_network_transmit_drops_total", "counter",
                "Packets the guest sent that the host dropped on one NIC");
        Family complete = family(f, "hvkit_node_scrape_complete", "gauge",
                "1 when the node's statistics came back within the scrape's bound, 0 when they did not"
                        + " (its instances are then missing from this scrape)");
        Family duration = family(f, "hvkit_scrape_duration_seconds", "gauge",
                "How long collecting this scrape's statistics took, in seconds");

        for (InstanceStats s : stats) {
            Map<String, String> id = Map.of("instance", s.name(), "node", s.node());
            up.add(sorted(id), s.state() == InstanceState.RUNNING || s.state() == InstanceState.PAUSED ? 1 : 0);
            stale.add(sorted(id), s.stale() ? 1 : 0);
            known(cpu, id, s.cpuTimeMillis(), 1000.0);
            known(rss, id, s.rssBytes(), 1);
            known(balloon, id, s.balloonBytes(), 1);
            known(uptime, id, s.uptimeMillis(), 1000.0);
            for (InstanceStats.VcpuStats v : s.vcpus()) {
                known(vcpuCpu, with(id, "vcpu", Integer.toString(v.index())), v.cpuTimeMillis(), 1000.0);
            }
            for (DiskStats d : s.disks()) {
                Map<String, String> l = with(id, "device", d.device());
                known(diskRead, l, d.readBytes(), 1);
                known(diskWritten, l, d.writeBytes(), 1);
                known(diskReads, l, d.readOps(), 1);
                known(diskWrites, l, d.writeOps(), 1);
            }
            for (NicStats n : s.nics()) {
                Map<String, String> l = with(id, "nic", Integer.toString(n.index()));
                known(rxBytes, l, n.rxBytes(), 1);
                known(txBytes, l, n.txBytes(), 1);
                known(rxPackets, l, n.rxPackets(), 1);
                known(txPackets, l, n.txPackets(), 1);
                known(rxDrops, l, n.rxDropped(), 1);
                known(txDrops, l, n.txDropped(), 1);
            }
        }
        nodes.forEach((node, ok) -> complete.add(Map.of("node", node), ok ? 1 : 0));
        duration.add(Map.of(), seconds);

        StringBuilder out = new StringBuilder();
        for (Family family : f.values()) {
            if (family.samples.length() == 0) {
                continue;
            }
            out.append("# HELP ").append(family.name).append(' ').append(escapeHelp(family.help)).append('\n');
            out.append("# TYPE ").append(family.name).append(' ').append(family.type).append('\n');
            out.append(family.samples);
        }
        return out.toString();
    }

    private static Family family(Map<String, Family> families, String name, String type, String help) {
        Family f = new Family(name, type, help);
        families.put(name, f);
        return f;
    }

    /** Adds {@code value / divisor} unless the value is unknown (negative). */
    private static void known(Family f, Map<String, String> labels, long value, double divisor) {
        if (value >= 0) {
            f.add(sorted(labels), value / divisor);
        }
    }

    private static Map<String, String> with(Map<String, String> labels, String name, String value) {
        Map<String, String> m = new LinkedHashMap<>(labels);
        m.put(name, value);
        return m;
    }

    /** The labels in a stable order: instance, node, then the rest as given. */
    private static Map<String, String> sorted(Map<String, String> labels) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String first : List.of("instance", "node")) {
            if (labels.containsKey(first)) {
                m.put(first, labels.get(first));
            }
        }
        labels.forEach(m::putIfAbsent);
        return m;
    }

    static String labels(Map<String, String> labels) {
        if (labels.isEmpty()) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        labels.forEach((k, v) -> parts.add(k + "=\"" + escapeLabelValue(v) + "\""));
        return "{" + String.join(",", parts) + "}";
    }

    /** A label value as the format wants it: backslash, double quote and line feed escaped. */
    static String escapeLabelValue(String v) {
        StringBuilder b = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> b.append("\\\\");
                case '"' -> b.append("\\\"");
                case '\n' -> b.append("\\n");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** Help text as the format wants it: backslash and line feed escaped. */
    static String escapeHelp(String v) {
        return v.replace("\\", "\\\\").replace("\n", "\\n");
    }

    /** A sample value: integral values without a fraction, others as Java prints doubles. */
    static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }
}
