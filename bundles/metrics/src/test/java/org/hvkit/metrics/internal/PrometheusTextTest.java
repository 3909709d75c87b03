package org.hvkit.metrics.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.InstanceStats;
import org.hvkit.hypervisor.InstanceStats.DiskStats;
import org.hvkit.hypervisor.InstanceStats.NicStats;
import org.hvkit.hypervisor.InstanceStats.VcpuStats;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {

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

    @Test
    void everyFigureWithItsTypeAndUnits() {
        String text = PrometheusText.format(List.of(full("vm1", "node-a")), Map.of("node-a", true), 0.25);
        String id = "{instance=\"vm1\",node=\"node-a\"}";
        assertTrue(text.contains("# TYPE hvkit_instance_cpu_seconds_total counter\n"
                + "hvkit_instance_cpu_seconds_total" + id + " 12.34\n"), text);
        assertTrue(text.contains("# TYPE hvkit_instance_resident_memory_bytes gauge\n"
                + "hvkit_instance_resident_memory_bytes" + id + " 268435456\n"), text);
        assertTrue(text.contains("hvkit_instance_up" + id + " 1\n"), text);
        assertTrue(text.contains("hvkit_instance_stale" + id + " 0\n"), text);
        assertTrue(text.contains("hvkit_instance_uptime_seconds" + id + " 90.5\n"), text);
        assertTrue(text.contains("hvkit_instance_balloon_memory_bytes" + id + " 134217728\n"), text);
        assertTrue(text.contains("hvkit_instance_vcpu_cpu_seconds_total{instance=\"vm1\",node=\"node-a\",vcpu=\"0\"} 10\n"),
                text);
        String disk = "{instance=\"vm1\",node=\"node-a\",device=\"disk0\"}";
        assertTrue(text.contains("hvkit_instance_disk_read_bytes_total" + disk + " 1024\n"), text);
        assertTrue(text.contains("hvkit_instance_disk_written_bytes_total" + disk + " 2048\n"), text);
        assertTrue(text.contains("hvkit_instance_disk_reads_total" + disk + " 3\n"), text);
        assertTrue(text.contains("hvkit_instance_disk_writes_total" + disk + " 4\n"), text);
        String nic = "{instance=\"vm1\",node=\"node-a\",nic=\"0\"}";
        assertTrue(text.contains("hvkit_instance_network_receive_bytes_total" + nic + " 100\n"), text);
        assertTrue(text.contains("hvkit_instance_network_transmit_bytes_total" + nic + " 200\n"), text);
        assertTrue(text.contains("hvkit_instance_network_transmit_drops_total" + nic + " 5\n"), text);
        assertTrue(text.contains("hvkit_node_scrape_complete{node=\"node-a\"} 1\n"), text);
        assertTrue(text.contains("hvkit_scrape_duration_seconds 0.25\n"), text);
    }

    @Test
    void everyLineIsHelpTypeOrASampleAndEachFamilyIsDeclaredOnceBeforeItsSamples() {
        String text = PrometheusText.format(List.of(full("vm1", "node-a"), full("vm2", "node-b")),
                new LinkedHashMap<>(Map.of("node-a", true)), 1);
        Pattern sample = Pattern.compile("[a-z_]+(\\{[a-z]+=\"[^\"\\\\\\n]*\"(,[a-z]+=\"[^\"\\\\\\n]*\")*})? -?[0-9.E]+");
        Map<String, String> types = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String[] p = line.split(" ");
                assertFalse(types.containsKey(p[2]), "declared twice: " + p[2]);
                types.put(p[2], p[3]);
                assertEquals(p[3].equals("counter"), p[2].endsWith("_total"), line);
            } else if (!line.startsWith("# HELP ")) {
                assertTrue(sample.matcher(line).matches(), line);
                String family = line.replaceAll("[{ ].*", "");
                assertTrue(types.containsKey(family), "sample before its TYPE: " + line);
            }
        }
        assertTrue(text.endsWith("\n"));
    }

    @Test
    void unknownFiguresAreLeftOutNeverMinusOne() {
        String text = PrometheusText.format(List.of(staleOne("vm1", "node-a")), Map.of("node-a", true), 0);
        assertFalse(text.contains(" -1\n"), text);
        assertFalse(text.contains("hvkit_instance_cpu_seconds_total"), "no family without samples: " + text);
        assertFalse(text.contains("hvkit_instance_uptime_seconds"), text);
        assertFalse(text.contains("hvkit_instance_network_"), text);
        assertFalse(text.contains("hvkit_instance_disk_read_bytes_total"), text);
        assertTrue(text.contains("hvkit_instance_disk_written_bytes_total{instance=\"vm1\",node=\"node-a\",device=\"disk0\"} 5\n"),
                text);
        assertTrue(text.contains("hvkit_instance_resident_memory_bytes{instance=\"vm1\",node=\"node-a\"} 1000\n"), text);
        assertTrue(text.contains("hvkit_instance_stale{instance=\"vm1\",node=\"node-a\"} 1\n"), text);
        assertTrue(text.contains("hvkit_instance_up{instance=\"vm1\",node=\"node-a\"} 0\n"), text);
    }

    @Test
    void hostileLabelValuesAreEscaped() {
        String node = "n\\o\"de\nx} 1\nhvkit_fake 2";
        String text = PrometheusText.format(List.of(full("vm1", node)), Map.of(node, false), 0);
        String escaped = "n\\\\o\\\"de\\nx} 1\\nhvkit_fake 2";
        assertTrue(text.contains("hvkit_instance_up{instance=\"vm1\",node=\"" + escaped + "\"} 1\n"), text);
        assertTrue(text.contains("hvkit_node_scrape_complete{node=\"" + escaped + "\"} 0\n"), text);
        for (String line : text.split("\n")) {
            assertFalse(line.startsWith("hvkit_fake"), "a label value broke out of its line: " + text);
        }
    }

    @Test
    void numbers() {
        assertEquals("0", PrometheusText.number(0));
        assertEquals("9007199254740", PrometheusText.number(9007199254740.0));
        assertEquals("0.01", PrometheusText.number(0.01));
        assertEquals("1.0E20", PrometheusText.number(1e20));
    }
}
