package org.hvkit.kvm.internal.stats;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The figures {@code /proc} gives of a process and its threads, read as hostile input: a
 * process can exit (and its files vanish) between two reads, a file can be cut short, and the
 * command name in {@code stat} may hold spaces and parentheses. Nothing here throws for that:
 * what cannot be read is empty or {@link #UNKNOWN}. Each read is bounded in size.
 */
final class ProcFigures {

    static final long UNKNOWN = -1;
    /** The kernel reports CPU times and start times in USER_HZ ticks, 100 per second on Linux. */
    static final long TICKS_PER_SECOND = 100;
    private static final int MAX_BYTES = 64 * 1024;

    private final Path proc;

    ProcFigures(Path proc) {
        this.proc = proc;
    }

    /**
     * What {@code /proc/<pid>/stat} (or a thread's) says.
     *
     * @param state      the state letter (R, S, D, T stopped, t traced, Z, X …)
     * @param cpuTicks   utime + stime in ticks (for a process, of all its threads)
     * @param startTicks when it started, in ticks after boot
     */
    record Stat(char state, long cpuTicks, long startTicks) {
        boolean stopped() {
            return state == 'T' || state == 't';
        }

        boolean dead() {
            return state == 'Z' || state == 'X';
        }

        long cpuMillis() {
            return cpuTicks * 1000 / TICKS_PER_SECOND;
        }
    }

    /** The process' stat, empty when it is gone or the file makes no sense. */
    Optional<Stat> stat(long pid) {
        return read(proc.resolve(Long.toString(pid)).resolve("stat")).flatMap(ProcFigures::parseStat);
    }

    /** A thread's stat ({@code /proc/<pid>/task/<tid>/stat}), empty when it is gone. */
    Optional<Stat> threadStat(long pid, long tid) {
        return read(proc.resolve(Long.toString(pid)).resolve("task").resolve(Long.toString(tid)).resolve("stat"))
                .flatMap(ProcFigures::parseStat);
    }

    /** Resident memory in bytes ({@code VmRSS} of {@code /proc/<pid>/status}), {@link #UNKNOWN} when not there. */
    long rssBytes(long pid) {
        return read(proc.resolve(Long.toString(pid)).resolve("status")).map(ProcFigures::parseVmRss).orElse(UNKNOWN);
    }

    /** Seconds since boot ({@code /proc/uptime}) in milliseconds, {@link #UNKNOWN} when unreadable. */
    long uptimeMillis() {
        return read(proc.resolve("uptime")).map(ProcFigures::parseUptime).orElse(UNKNOWN);
    }

    /**
     * {@code pid (comm) S ppid …}: comm may contain anything but NUL, so the fields are counted
     * after the last {@code ')'}. Needs the fields up to starttime (proc(5) field 22).
     */
    static Optional<Stat> parseStat(String s) {
        int close = s.lastIndexOf(')');
        if (close < 0 || close + 2 >= s.length()) {
            return Optional.empty();
        }
        String[] f = s.substring(close + 2).trim().split(" +");
        // after comm: [0]=state (field 3) … [11]=utime (14) [12]=stime (15) … [19]=starttime (22)
        if (f.length < 20 || f[0].length() != 1) {
            return Optional.empty();
        }
        long utime = number(f[11]);
        long stime = number(f[12]);
        long start = number(f[19]);
        if (utime < 0 || stime < 0 || start < 0) {
            return Optional.empty();
        }
        return Optional.of(new Stat(f[0].charAt(0), utime + stime, start));
    }

    /** {@code VmRSS:    1234 kB} to bytes; {@link #UNKNOWN} when the line is missing or odd (a zombie has none). */
    static long parseVmRss(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("VmRSS:")) {
                String[] f = line.substring(6).trim().split("\\s+");
                long kb = f.length == 2 && f[1].equals("kB") ? number(f[0]) : UNKNOWN;
                return kb < 0 || kb > Long.MAX_VALUE / 1024 ? UNKNOWN : kb * 1024;
            }
        }
        return UNKNOWN;
    }

    /** The first field of {@code /proc/uptime} ({@code 12345.67 890.12}) in milliseconds. */
    static long parseUptime(String s) {
        String[] f = s.trim().split("\\s+");
        if (f.length == 0 || !f[0].matches("[0-9]{1,15}(\\.[0-9]{1,9})?")) {
            return UNKNOWN;
        }
        return Math.round(Double.parseDouble(f[0]) * 1000);
    }

    /** A process' uptime from its start ticks and the system's uptime; {@link #UNKNOWN} when either is. */
    static long processUptimeMillis(long systemUptimeMillis, long startTicks) {
        if (systemUptimeMillis < 0 || startTicks < 0) {
            return UNKNOWN;
        }
        return Math.max(0, systemUptimeMillis - startTicks * 1000 / TICKS_PER_SECOND);
    }

    /** A non-negative decimal of at most 18 digits, else {@link #UNKNOWN}. */
    static long number(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return UNKNOWN;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return UNKNOWN;
            }
        }
        return Long.parseLong(s);
    }

    /** The file's text (at most {@link #MAX_BYTES}); empty when it is gone or unreadable. */
    private static Optional<String> read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return Optional.of(new String(in.readNBytes(MAX_BYTES), StandardCharsets.US_ASCII));
        } catch (IOException | SecurityException e) {
            return Optional.empty();
        }
    }
}
