package org.hvkit.shell.internal;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.karaf.shell.support.table.ShellTable;
import org.hvkit.hypervisor.InstanceStats;

/**
 * The table of {@code hv:stats} and {@code hv:top}: one row per instance, rates (CPU %) from
 * the difference to the previous pass of the same process, unknown figures as {@code -}, stale
 * rows marked and their reasons listed under the table, then each instance's last migration
 * (issue #17). Keeps the previous pass between calls.
 */
final class StatsTable {

    private static final String UNKNOWN = "-";
    private Map<String, InstanceStats> previous = Map.of();

    /** Renders {@code pass} and remembers it as the previous pass of the next call. */
    String render(List<InstanceStats> pass) {
        ShellTable table = new ShellTable();
        table.column("Name");
        table.column("Node");
        table.column("State");
        table.column("CPU %").alignRight();
        table.column("CPU s").alignRight();
        table.column("RSS").alignRight();
        table.column("Disk rd").alignRight();
        table.column("Disk wr").alignRight();
        table.column("Net rx").alignRight();
        table.column("Net tx").alignRight();
        table.column("Drops").alignRight();
        table.column("Uptime").alignRight();
        table.column("Stale");
        Map<String, InstanceStats> now = new HashMap<>();
        List<String> reasons = new ArrayList<>();
        List<String> migrations = new ArrayList<>();
        for (InstanceStats s : pass) {
            String key = s.node() + "/" + s.name();
            now.put(key, s);
            table.addRow().addContent(s.name(), s.node(), StateLabels.of(s.state()),
                    cpuPercent(previous.get(key), s), cpuSeconds(s.cpuTimeMillis()), bytes(s.rssBytes()),
                    bytes(s.diskReadBytes()), bytes(s.diskWriteBytes()), bytes(s.netRxBytes()),
                    bytes(s.netTxBytes()), count(s.netDrops()), uptime(s.uptimeMillis()), s.stale() ? "stale" : "");
            if (s.stale()) {
                reasons.add("stale " + s.name() + "@" + s.node() + ": " + s.staleReason());
            }
            if (s.lastMigration() != null) {
                migrations.add(s.name() + "@" + s.node() + ": " + migration(s.lastMigration()));
            }
        }
        previous = now;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            table.print(ps);
            reasons.forEach(ps::println);
            if (!migrations.isEmpty()) {
                ps.println("last migration:");
                migrations.forEach(m -> ps.println("  " + m));
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * CPU time used between two samples of the same process over the wall time between them,
     * in % of one host CPU (a busy 4-vCPU guest can show 400); {@code -} without a usable
     * earlier sample (first pass, new process, unknown figures, no time between).
     */
    static String cpuPercent(InstanceStats before, InstanceStats after) {
        if (before == null || before.pid() != after.pid() || before.cpuTimeMillis() < 0 || after.cpuTimeMillis() < 0
                || after.cpuTimeMillis() < before.cpuTimeMillis()) {
            return UNKNOWN;
        }
        long wall = after.sampledAtMillis() - before.sampledAtMillis();
        if (wall <= 0) {
            return UNKNOWN;
        }
        return String.format(Locale.ROOT, "%.1f", 100.0 * (after.cpuTimeMillis() - before.cpuTimeMillis()) / wall);
    }

    /**
     * {@code arrived, completed 2026-12-01T19:40:02Z in 2.31 s, paused 31 ms, 120.5 MiB sent} or
     * {@code outgoing, failed …}: the last migration of an instance's process.
     */
    static String migration(InstanceStats.LastMigration m) {
        StringBuilder b = new StringBuilder(m.incoming() ? "arrived" : "outgoing")
                .append(", ").append(m.result().name().toLowerCase(Locale.ROOT))
                .append(' ').append(java.time.Instant.ofEpochMilli(m.finishedAtMillis())
                        .truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        if (m.durationMillis() >= 0) {
            b.append(" in ").append(String.format(Locale.ROOT, "%.2f s", m.durationMillis() / 1000.0));
        }
        if (m.downtimeMillis() >= 0) {
            b.append(", paused ").append(m.downtimeMillis()).append(" ms");
        }
        if (m.transferredBytes() >= 0) {
            b.append(", ").append(bytes(m.transferredBytes())).append(" sent");
        }
        return b.toString();
    }

    static String cpuSeconds(long millis) {
        return millis < 0 ? UNKNOWN : String.format(Locale.ROOT, "%.2f", millis / 1000.0);
    }

    /** Binary units, one decimal: {@code 512 B}, {@code 1.5 KiB}, {@code 128.0 MiB}. */
    static String bytes(long n) {
        if (n < 0) {
            return UNKNOWN;
        }
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    static String count(long n) {
        return n < 0 ? UNKNOWN : Long.toString(n);
    }

    /** {@code 2d 03:04:05}, or {@code 03:04:05} under a day. */
    static String uptime(long millis) {
        if (millis < 0) {
            return UNKNOWN;
        }
        long s = millis / 1000;
        String hms = String.format(Locale.ROOT, "%02d:%02d:%02d", s / 3600 % 24, s / 60 % 60, s % 60);
        return s >= 86400 ? s / 86400 + "d " + hms : hms;
    }
}
