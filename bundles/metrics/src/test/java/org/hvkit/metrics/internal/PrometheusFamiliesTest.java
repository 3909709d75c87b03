package org.hvkit.metrics.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.prometheus.client.exporter.common.TextFormat;

import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.InstanceStats;
import org.hvkit.hypervisor.InstanceStats.DiskStats;
import org.hvkit.hypervisor.InstanceStats.NicStats;
import org.hvkit.hypervisor.InstanceStats.VcpuStats;
import org.junit.jupiter.api.Test;

class PrometheusFamiliesTest {

    static InstanceStats full(String name, String node) {
        return new InstanceStats(name, node, InstanceState.RUNNING, 4242, 1_700_000_000_000L, 90_500, 12_340,
                List.of(new VcpuStats(0, 4243, 10_000)), 268_435_456, 134_217_728,
                List.of(new DiskStats("disk0", 1024, 2048, 3, 4)),
                List.of(new NicStats(0, "tap0", 100, 1, 0, 200, 2, 5)), false, "");
    }

    static InstanceStats staleOne(String name, String node) {
        return new InstanceStats(name, node, InstanceState.UNRESPONSIVE, 77, 1_700_000_000_000L, InstanceStats.UNKNOWN,
                InstanceStats.UNKNOWN, List.of(), 1000, InstanceStats.UNKNOWN,
                List.of(new DiskStats("disk0", InstanceStats.UNKNOWN, 5, InstanceStats.UNKNOWN, 1)),
                List.of(new NicStats(0, "", -1, -1, -1, -1, -1, -1)), true, "QMP did not answer");
    }

    /** The text format 0.0.4 of one pass, as {@code GET /metrics} writes it by default. */
    static String text(List<InstanceStats> stats, Map<String, Boolean> nodes, double seconds) {
        return MetricsServlet.text(TextFormat.CONTENT_TYPE_004, PrometheusFamilies.of(stats, nodes, seconds));
    }

    private static final Pattern SAMPLE = Pattern.compile("(?m)^([a-z_]+)(?:\\{(.*?),?})? (\\S+)$");

    /**
     * Every sample of a 0.0.4 text by its series, written {@code name{l1="v1",l2="v2"}} (labels in
     * the order given, no trailing comma; {@code name} alone without labels).
     */
    static Map<String, Double> samples(String text) {
        Map<String, Double> m = new LinkedHashMap<>();
        Matcher x = SAMPLE.matcher(text);
        while (x.find()) {
            String key = x.group(2) == null ? x.group(1) : x.group(1) + "{" + x.group(2) + "}";
            assertFalse(m.containsKey(key), "series twice: " + key);
            m.put(key, Double.parseDouble(x.group(3)));
        }
        return m;
    }

    @Test
    void everyFigureWithItsTypeAndUnits() {
        String text = text(List.of(full("vm1", "node-a")), Map.of("node-a", true), 0.25);
        Map<String, Double> s = samples(text);
        String id = "{instance=\"vm1\",node=\"node-a\"}";
        assertTrue(text.contains("# TYPE hvkit_instance_cpu_seconds_total counter\n"), text);
        assertTrue(text.contains("# TYPE hvkit_instance_resident_memory_bytes gauge\n"), text);
        assertEquals(12.34, s.get("hvkit_instance_cpu_seconds_total" + id), text);
        assertEquals(268435456.0, s.get("hvkit_instance_resident_memory_bytes" + id), text);
        assertEquals(1.0, s.get("hvkit_instance_up" + id), text);
        assertEquals(0.0, s.get("hvkit_instance_stale" + id), text);
        assertEquals(90.5, s.get("hvkit_instance_uptime_seconds" + id), text);
        assertEquals(134217728.0, s.get("hvkit_instance_balloon_memory_bytes" + id), text);
        assertEquals(10.0, s.get("hvkit_instance_vcpu_cpu_seconds_total{instance=\"vm1\",node=\"node-a\",vcpu=\"0\"}"),
                text);
        String disk = "{instance=\"vm1\",node=\"node-a\",device=\"disk0\"}";
        assertEquals(1024.0, s.get("hvkit_instance_disk_read_bytes_total" + disk), text);
        assertEquals(2048.0, s.get("hvkit_instance_disk_written_bytes_total" + disk), text);
        assertEquals(3.0, s.get("hvkit_instance_disk_reads_total" + disk), text);
        assertEquals(4.0, s.get("hvkit_instance_disk_writes_total" + disk), text);
        String nic = "{instance=\"vm1\",node=\"node-a\",nic=\"0\"}";
        assertEquals(100.0, s.get("hvkit_instance_network_receive_bytes_total" + nic), text);
        assertEquals(200.0, s.get("hvkit_instance_network_transmit_bytes_total" + nic), text);
        assertEquals(1.0, s.get("hvkit_instance_network_receive_packets_total" + nic), text);
        assertEquals(2.0, s.get("hvkit_instance_network_transmit_packets_total" + nic), text);
        assertEquals(0.0, s.get("hvkit_instance_network_receive_drops_total" + nic), text);
        assertEquals(5.0, s.get("hvkit_instance_network_transmit_drops_total" + nic), text);
        assertEquals(1.0, s.get("hvkit_node_scrape_complete{node=\"node-a\"}"), text);
        assertEquals(0.25, s.get("hvkit_scrape_duration_seconds"), text);
        assertEquals(19, s.size(), "one series per figure: " + text);
    }

    @Test
    void everyLineIsHelpTypeOrASampleAndEachFamilyIsDeclaredOnceBeforeItsSamples() {
        String text = text(List.of(full("vm1", "node-a"), full("vm2", "node-b")),
                new LinkedHashMap<>(Map.of("node-a", true)), 1);
        Map<String, String> types = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String[] p = line.split(" ");
                assertFalse(types.containsKey(p[2]), "declared twice: " + p[2]);
                types.put(p[2], p[3]);
                assertEquals(p[3].equals("counter"), p[2].endsWith("_total"), line);
            } else if (!line.startsWith("# HELP ")) {
                assertTrue(SAMPLE.matcher(line).matches(), line);
                String family = line.replaceAll("[{ ].*", "");
                assertTrue(types.containsKey(family), "sample before its TYPE: " + line);
            }
        }
        assertEquals(2, samples(text).keySet().stream().filter(k -> k.startsWith("hvkit_instance_up{")).count(), text);
        assertTrue(text.endsWith("\n"));
    }

    @Test
    void unknownFiguresAreLeftOutNeverMinusOne() {
        String text = text(List.of(staleOne("vm1", "node-a")), Map.of("node-a", true), 0);
        assertFalse(samples(text).containsValue(-1.0), text);
        assertFalse(text.contains("hvkit_instance_cpu_seconds_total"), "no family without samples: " + text);
        assertFalse(text.contains("hvkit_instance_uptime_seconds"), text);
        assertFalse(text.contains("hvkit_instance_network_"), text);
        assertFalse(text.contains("hvkit_instance_disk_read_bytes_total"), text);
        Map<String, Double> s = samples(text);
        String id = "{instance=\"vm1\",node=\"node-a\"}";
        assertEquals(5.0, s.get("hvkit_instance_disk_written_bytes_total{instance=\"vm1\",node=\"node-a\",device=\"disk0\"}"),
                text);
        assertEquals(1000.0, s.get("hvkit_instance_resident_memory_bytes" + id), text);
        assertEquals(1.0, s.get("hvkit_instance_stale" + id), text);
        assertEquals(0.0, s.get("hvkit_instance_up" + id), text);
    }

    @Test
    void hostileLabelValuesAreEscaped() {
        String node = "n\\o\"de\nx} 1\nhvkit_fake 2";
        String text = text(List.of(full("vm1", node)), Map.of(node, false), 0);
        String escaped = "n\\\\o\\\"de\\nx} 1\\nhvkit_fake 2";
        Map<String, Double> s = samples(text);
        assertEquals(1.0, s.get("hvkit_instance_up{instance=\"vm1\",node=\"" + escaped + "\"}"), text);
        assertEquals(0.0, s.get("hvkit_node_scrape_complete{node=\"" + escaped + "\"}"), text);
        for (String line : text.split("\n")) {
            assertFalse(line.startsWith("hvkit_fake"), "a label value broke out of its line: " + text);
        }
    }

    @Test
    void openMetricsWhenTheScraperAsksForIt() {
        String type = TextFormat.chooseContentType(
                "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
        assertEquals(TextFormat.CONTENT_TYPE_OPENMETRICS_100, type);
        String text = MetricsServlet.text(type, PrometheusFamilies.of(List.of(full("vm1", "node-a")),
                Map.of("node-a", true), 0.25));
        assertTrue(text.contains("# TYPE hvkit_instance_cpu_seconds counter\n"), text);
        assertTrue(text.contains("hvkit_instance_cpu_seconds_total{instance=\"vm1\",node=\"node-a\"} 12.34\n"), text);
        assertTrue(text.endsWith("# EOF\n"), text);
        assertEquals(TextFormat.CONTENT_TYPE_004, TextFormat.chooseContentType(null));
    }

    @Test
    void nameParameterKeepsOnlyTheNamedSeries() {
        var families = PrometheusFamilies.of(List.of(full("vm1", "node-a")), Map.of("node-a", true), 0.25);
        String text = MetricsServlet.text(TextFormat.CONTENT_TYPE_004, MetricsServlet.named(families,
                new String[] {"hvkit_instance_cpu_seconds_total", "hvkit_node_scrape_complete", "no_such_series"}));
        assertEquals(Map.of("hvkit_instance_cpu_seconds_total{instance=\"vm1\",node=\"node-a\"}", 12.34,
                "hvkit_node_scrape_complete{node=\"node-a\"}", 1.0), samples(text), text);
        assertEquals(families, MetricsServlet.named(families, null));
        assertEquals(families, MetricsServlet.named(families, new String[0]));
    }

    @Test
    void theLastMigrationIsAGaugePerDirectionAndResultWithoutUnknownFigures() {
        InstanceStats arrived = full("vm1", "node-a").withLastMigration(new InstanceStats.LastMigration(true,
                org.hvkit.hypervisor.MigrationStatus.State.COMPLETED, 1_780_340_402_500L, 2310, 31, 1000));
        InstanceStats stayed = full("vm2", "node-a").withLastMigration(new InstanceStats.LastMigration(false,
                org.hvkit.hypervisor.MigrationStatus.State.FAILED, 1_780_340_402_000L, 40, InstanceStats.UNKNOWN,
                InstanceStats.UNKNOWN));
        String text = text(List.of(arrived, stayed, full("vm3", "node-a")), Map.of("node-a", true), 0);
        Map<String, Double> s = samples(text);
        String in = "{instance=\"vm1\",node=\"node-a\",direction=\"in\",result=\"completed\"}";
        String out = "{instance=\"vm2\",node=\"node-a\",direction=\"out\",result=\"failed\"}";
        assertTrue(text.contains("# TYPE hvkit_instance_last_migration_timestamp_seconds gauge\n"), text);
        assertEquals(1_780_340_402.5, s.get("hvkit_instance_last_migration_timestamp_seconds" + in), text);
        assertEquals(2.31, s.get("hvkit_instance_last_migration_duration_seconds" + in), text);
        assertEquals(0.031, s.get("hvkit_instance_last_migration_downtime_seconds" + in), text);
        assertEquals(1000.0, s.get("hvkit_instance_last_migration_transferred_bytes" + in), text);
        assertEquals(0.04, s.get("hvkit_instance_last_migration_duration_seconds" + out), text);
        assertFalse(s.containsKey("hvkit_instance_last_migration_downtime_seconds" + out), text);
        assertFalse(s.containsKey("hvkit_instance_last_migration_transferred_bytes" + out), text);
        assertFalse(text.contains("instance=\"vm3\",node=\"node-a\",direction"), "no migration, no sample: " + text);
    }
}
