package org.hvkit.metrics.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.prometheus.client.Collector.MetricFamilySamples;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;

import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.InstanceStats;
import org.hvkit.hypervisor.InstanceStats.DiskStats;
import org.hvkit.hypervisor.InstanceStats.NicStats;

/**
 * One statistics pass as Prometheus metric families of the Prometheus Java client
 * ({@code io.prometheus:simpleclient}), which writes them in the text format 0.0.4 or in
 * OpenMetrics 1.0 and escapes names, help and label values. Counters are
 * {@link CounterMetricFamily} (their samples end in {@code _total}), gauges
 * {@link GaugeMetricFamily}. A figure that is not known ({@link InstanceStats#UNKNOWN}) has no
 * sample: it is left out, never exported as -1, and a family without samples is left out too.
 */
final class PrometheusFamilies {

    private static final List<String> ID = List.of("instance", "node");

    private PrometheusFamilies() {
    }

    /**
     * The families of one pass.
     *
     * @param stats    every instance's figures, in the order they should appear
     * @param nodes    every node asked, with whether its answer came back in time
     * @param seconds  how long the pass took, in seconds
     */
    static List<MetricFamilySamples> of(List<InstanceStats> stats, Map<String, Boolean> nodes, double seconds) {
        List<MetricFamilySamples> all = new ArrayList<>();
        GaugeMetricFamily up = gauge(all, "hvkit_instance_up",
                "1 when the instance's hypervisor process runs and answers (running or paused), 0 otherwise", ID);
        GaugeMetricFamily stale = gauge(all, "hvkit_instance_stale",
                "1 when some of the instance's figures could not be read in time (a hung or stopping QEMU)", ID);
        CounterMetricFamily cpu = counter(all, "hvkit_instance_cpu_seconds_total",
                "CPU time (user + system) of the instance's hypervisor process, every thread, in seconds", ID);
        GaugeMetricFamily rss = gauge(all, "hvkit_instance_resident_memory_bytes",
                "Resident memory of the instance's hypervisor process in bytes", ID);
        GaugeMetricFamily balloon = gauge(all, "hvkit_instance_balloon_memory_bytes",
                "The guest's current memory as its balloon device reports it, in bytes", ID);
        GaugeMetricFamily uptime = gauge(all, "hvkit_instance_uptime_seconds",
                "How long the instance's hypervisor process has run, in seconds", ID);
        List<String> vcpu = List.of("instance", "node", "vcpu");
        CounterMetricFamily vcpuCpu = counter(all, "hvkit_instance_vcpu_cpu_seconds_total",
                "CPU time of one virtual CPU's host thread, in seconds", vcpu);
        List<String> device = List.of("instance", "node", "device");
        CounterMetricFamily diskRead = counter(all, "hvkit_instance_disk_read_bytes_total",
                "Bytes the guest read from one disk, as the hypervisor counts them", device);
        CounterMetricFamily diskWritten = counter(all, "hvkit_instance_disk_written_bytes_total",
                "Bytes the guest wrote to one disk, as the hypervisor counts them", device);
        CounterMetricFamily diskReads = counter(all, "hvkit_instance_disk_reads_total",
                "Read requests of the guest to one disk, completed", device);
        CounterMetricFamily diskWrites = counter(all, "hvkit_instance_disk_writes_total",
                "Write requests of the guest to one disk, completed", device);
        List<String> nic = List.of("instance", "node", "nic");
        CounterMetricFamily rxBytes = counter(all, "hvkit_instance_network_receive_bytes_total",
                "Bytes delivered to the guest through one NIC", nic);
        CounterMetricFamily txBytes = counter(all, "hvkit_instance_network_transmit_bytes_total",
                "Bytes the guest sent through one NIC", nic);
        CounterMetricFamily rxPackets = counter(all, "hvkit_instance_network_receive_packets_total",
                "Packets delivered to the guest through one NIC", nic);
        CounterMetricFamily txPackets = counter(all, "hvkit_instance_network_transmit_packets_total",
                "Packets the guest sent through one NIC", nic);
        CounterMetricFamily rxDrops = counter(all, "hvkit_instance_network_receive_drops_total",
                "Packets for the guest that were dropped on one NIC", nic);
        CounterMetricFamily txDrops = counter(all, "hvkit_instance_network_transmit_drops_total",
                "Packets the guest sent that the host dropped on one NIC", nic);
        List<String> migration = List.of("instance", "node", "direction", "result");
        GaugeMetricFamily migrationEnd = gauge(all, "hvkit_instance_last_migration_timestamp_seconds",
                "When the last migration of the instance's hypervisor process ended (Unix time); direction"
                        + " \"in\" when it arrived on this node, \"out\" when this node sent it and it stayed", migration);
        GaugeMetricFamily migrationTook = gauge(all, "hvkit_instance_last_migration_duration_seconds",
                "How long the last migration took as this node measured it, in seconds", migration);
        GaugeMetricFamily migrationPause = gauge(all, "hvkit_instance_last_migration_downtime_seconds",
                "How long the guest was paused for the last migration's switch-over, in seconds", migration);
        GaugeMetricFamily migrationBytes = gauge(all, "hvkit_instance_last_migration_transferred_bytes",
                "Bytes of guest RAM the last migration's source sent", migration);
        GaugeMetricFamily complete = gauge(all, "hvkit_node_scrape_complete",
                "1 when the node's statistics came back within the scrape's bound, 0 when they did not"
                        + " (its instances are then missing from this scrape)", List.of("node"));
        GaugeMetricFamily duration = gauge(all, "hvkit_scrape_duration_seconds",
                "How long collecting this scrape's statistics took, in seconds", List.of());

        for (InstanceStats s : stats) {
            List<String> id = List.of(s.name(), s.node());
            up.addMetric(id, s.state() == InstanceState.RUNNING || s.state() == InstanceState.PAUSED ? 1 : 0);
            stale.addMetric(id, s.stale() ? 1 : 0);
            known(cpu, id, s.cpuTimeMillis(), 1000.0);
            known(rss, id, s.rssBytes(), 1);
            known(balloon, id, s.balloonBytes(), 1);
            known(uptime, id, s.uptimeMillis(), 1000.0);
            for (InstanceStats.VcpuStats v : s.vcpus()) {
                known(vcpuCpu, with(id, Integer.toString(v.index())), v.cpuTimeMillis(), 1000.0);
            }
            for (DiskStats d : s.disks()) {
                List<String> l = with(id, d.device());
                known(diskRead, l, d.readBytes(), 1);
                known(diskWritten, l, d.writeBytes(), 1);
                known(diskReads, l, d.readOps(), 1);
                known(diskWrites, l, d.writeOps(), 1);
            }
            InstanceStats.LastMigration m = s.lastMigration();
            if (m != null) {
                List<String> l = List.of(s.name(), s.node(), m.incoming() ? "in" : "out",
                        m.result().name().toLowerCase(java.util.Locale.ROOT));
                known(migrationEnd, l, m.finishedAtMillis(), 1000.0);
                known(migrationTook, l, m.durationMillis(), 1000.0);
                known(migrationPause, l, m.downtimeMillis(), 1000.0);
                known(migrationBytes, l, m.transferredBytes(), 1);
            }
            for (NicStats n : s.nics()) {
                List<String> l = with(id, Integer.toString(n.index()));
                known(rxBytes, l, n.rxBytes(), 1);
                known(txBytes, l, n.txBytes(), 1);
                known(rxPackets, l, n.rxPackets(), 1);
                known(txPackets, l, n.txPackets(), 1);
                known(rxDrops, l, n.rxDropped(), 1);
                known(txDrops, l, n.txDropped(), 1);
            }
        }
        nodes.forEach((node, ok) -> complete.addMetric(List.of(node), ok ? 1 : 0));
        duration.addMetric(List.of(), seconds);
        all.removeIf(f -> f.samples.isEmpty());
        return all;
    }

    private static GaugeMetricFamily gauge(List<MetricFamilySamples> all, String name, String help, List<String> labels) {
        GaugeMetricFamily f = new GaugeMetricFamily(name, help, labels);
        all.add(f);
        return f;
    }

    private static CounterMetricFamily counter(List<MetricFamilySamples> all, String name, String help,
                                               List<String> labels) {
        CounterMetricFamily f = new CounterMetricFamily(name, help, labels);
        all.add(f);
        return f;
    }

    /** Adds {@code value / divisor} unless the value is unknown (negative). */
    private static void known(GaugeMetricFamily f, List<String> labels, long value, double divisor) {
        known(f::addMetric, labels, value, divisor);
    }

    private static void known(CounterMetricFamily f, List<String> labels, long value, double divisor) {
        known(f::addMetric, labels, value, divisor);
    }

    private static void known(java.util.function.ObjDoubleConsumer<List<String>> add, List<String> labels, long value,
                              double divisor) {
        if (value >= 0) {
            add.accept(labels, value / divisor);
        }
    }

    private static List<String> with(List<String> labels, String value) {
        List<String> l = new ArrayList<>(labels);
        l.add(value);
        return l;
    }
}
