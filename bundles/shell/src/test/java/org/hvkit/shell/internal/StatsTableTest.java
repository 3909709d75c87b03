package org.hvkit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.InstanceStats;
import org.junit.jupiter.api.Test;

class StatsTableTest {

    private static final long U = InstanceStats.UNKNOWN;

    private static InstanceStats stats(String name, long pid, long at, long cpu, boolean stale) {
        return new InstanceStats(name, "node-a", stale ? InstanceState.UNRESPONSIVE : InstanceState.RUNNING, pid, at,
                90_061_000, cpu, List.of(), 300L << 20, U,
                List.of(new InstanceStats.DiskStats("virtio0", 1536, 512, 3, 1)),
                List.of(new InstanceStats.NicStats(0, "tap0", 2048, 2, 1, 100, 1, 2)), stale,
                stale ? "the process is stopped (state T)" : "");
    }

    @Test
    void cpuPercentIsTheDeltaOverTheWallTimeBetweenPasses() {
        assertEquals("50.0", StatsTable.cpuPercent(stats("a", 1, 1000, 2000, false), stats("a", 1, 3000, 3000, false)));
        assertEquals("250.0", StatsTable.cpuPercent(stats("a", 1, 0, 0, false), stats("a", 1, 1000, 2500, false)),
                "several vCPUs: more than one host CPU");
        assertEquals("-", StatsTable.cpuPercent(null, stats("a", 1, 1000, 1, false)), "first pass");
        assertEquals("-", StatsTable.cpuPercent(stats("a", 1, 0, 10, false), stats("a", 2, 1000, 20, false)),
                "a new process (reboot) starts its CPU time again");
        assertEquals("-", StatsTable.cpuPercent(stats("a", 1, 1000, 10, false), stats("a", 1, 1000, 20, false)),
                "no time between");
        assertEquals("-", StatsTable.cpuPercent(stats("a", 1, 0, U, false), stats("a", 1, 1000, 20, false)));
        assertEquals("-", StatsTable.cpuPercent(stats("a", 1, 0, 30, false), stats("a", 1, 1000, 20, false)),
                "a counter that went back");
    }

    @Test
    void units() {
        assertEquals("-", StatsTable.bytes(U));
        assertEquals("0 B", StatsTable.bytes(0));
        assertEquals("1023 B", StatsTable.bytes(1023));
        assertEquals("1.5 KiB", StatsTable.bytes(1536));
        assertEquals("300.0 MiB", StatsTable.bytes(300L << 20));
        assertEquals("8.0 EiB", StatsTable.bytes(Long.MAX_VALUE));
        assertEquals("00:00:59", StatsTable.uptime(59_999));
        assertEquals("1d 01:01:01", StatsTable.uptime(90_061_000));
        assertEquals("-", StatsTable.uptime(U));
        assertEquals("12.35", StatsTable.cpuSeconds(12_345));
        assertEquals("-", StatsTable.count(U));
    }

    @Test
    void rowsWithRatesFromThePreviousPassAndStaleReasonsBelow() {
        StatsTable table = new StatsTable();
        String first = table.render(List.of(stats("web1", 10, 0, 1000, false)));
        String second = table.render(List.of(stats("web1", 10, 2000, 2000, false), stats("db1", 11, 2000, 500, true)));
        String[] lines = second.split("\n");
        assertTrue(lines[0].matches("Name\\s*\\|\\s*Node\\s*\\|\\s*State\\s*\\|\\s*CPU %.*\\|\\s*Stale\\s*"), lines[0]);
        String web = List.of(lines).stream().filter(l -> l.startsWith("web1")).findFirst().orElseThrow();
        assertTrue(web.matches("web1\\s*\\|\\s*node-a\\s*\\|\\s*running\\s*\\|\\s*50.0\\s*\\|\\s*2.00\\s*\\|\\s*300.0 MiB"
                + "\\s*\\|\\s*1.5 KiB\\s*\\|\\s*512 B\\s*\\|\\s*2.0 KiB\\s*\\|\\s*100 B\\s*\\|\\s*3\\s*\\|\\s*1d 01:01:01\\s*\\|\\s*"),
                web);
        String db = List.of(lines).stream().filter(l -> l.startsWith("db1")).findFirst().orElseThrow();
        assertTrue(db.contains("unresponsive") && db.trim().endsWith("stale") && db.matches(".*unresponsive\\s*\\|\\s+-\\s+\\|.*"), db);
        assertEquals("stale db1@node-a: the process is stopped (state T)", lines[lines.length - 1]);
        assertFalse(first.contains("stale"), first);
        assertTrue(first.lines().anyMatch(l -> l.startsWith("web1") && l.matches(".*running\\s*\\|\\s*-\\s*\\|.*")),
                "no rate on the first pass: " + first);
    }

    @Test
    void theLastMigrationIsListedUnderTheTable() {
        InstanceStats.LastMigration in = new InstanceStats.LastMigration(true,
                org.hvkit.hypervisor.MigrationStatus.State.COMPLETED, 1_780_340_402_345L, 2310, 31, 120L << 20);
        assertEquals("arrived, completed 2026-06-01T19:00:02Z in 2.31 s, paused 31 ms, 120.0 MiB sent",
                StatsTable.migration(in));
        InstanceStats.LastMigration out = new InstanceStats.LastMigration(false,
                org.hvkit.hypervisor.MigrationStatus.State.FAILED, 1_780_340_402_345L, 40, U, U);
        assertEquals("outgoing, failed 2026-06-01T19:00:02Z in 0.04 s", StatsTable.migration(out));
        String text = new StatsTable().render(List.of(stats("web1", 10, 0, 1000, false).withLastMigration(in),
                stats("db1", 11, 0, 1000, false)));
        assertTrue(text.endsWith("last migration:\n  web1@node-a: " + StatsTable.migration(in) + "\n"), text);
        assertFalse(new StatsTable().render(List.of(stats("db1", 11, 0, 1000, false))).contains("last migration"));
    }
}
