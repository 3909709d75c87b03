package org.hvkit.kvm.internal.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /proc} parsing with hostile input: odd process names, cut files, vanished processes. */
class ProcFiguresTest {

    /** A real line's shape: fields 3 … 22 (state … starttime) and more. */
    private static String stat(String comm, char state, long utime, long stime, long start) {
        return "4242 (" + comm + ") " + state + " 1 4242 4242 0 -1 4194560 100 0 0 0 " + utime + " " + stime
                + " 0 0 20 0 3 0 " + start + " 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0\n";
    }

    @TempDir
    Path tmp;

    @Test
    void statFieldsAfterTheLastParenthesis() {
        ProcFigures.Stat s = ProcFigures.parseStat(stat("qemu-system-x86", 'S', 150, 50, 9000)).orElseThrow();
        assertEquals('S', s.state());
        assertEquals(200, s.cpuTicks());
        assertEquals(2000, s.cpuMillis());
        assertEquals(9000, s.startTicks());
    }

    @Test
    void processNamesWithSpacesAndParenthesesDoNotShiftTheFields() {
        for (String comm : new String[] {"a b", ") R 1 2 3 (", "x) T 9 9 (y", "((", "))", "  "}) {
            ProcFigures.Stat s = ProcFigures.parseStat(stat(comm, 'T', 7, 3, 55)).orElseThrow(() -> new AssertionError(comm));
            assertEquals('T', s.state(), comm);
            assertTrue(s.stopped(), comm);
            assertEquals(10, s.cpuTicks(), comm);
            assertEquals(55, s.startTicks(), comm);
        }
    }

    @Test
    void truncatedOrGarbledStatGivesNothing() {
        String full = stat("qemu", 'R', 1, 2, 3);
        for (int cut : new int[] {0, 5, full.indexOf(')'), full.indexOf(')') + 1, full.indexOf(')') + 2, 60}) {
            assertTrue(ProcFigures.parseStat(full.substring(0, cut)).isEmpty(), "cut at " + cut);
        }
        assertTrue(ProcFigures.parseStat(stat("q", 'R', -5, 2, 3)).isEmpty(), "negative utime");
        assertTrue(ProcFigures.parseStat(stat("q", 'R', 1, 2, 3).replace(" 1 2 0 0 20", " x 2 0 0 20")).isEmpty());
        assertTrue(ProcFigures.parseStat("4242 (q) RS 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20").isEmpty(),
                "a state of two letters");
        assertTrue(ProcFigures.parseStat("").isEmpty());
    }

    @Test
    void vmRss() {
        assertEquals(1024L * 131072, ProcFigures.parseVmRss("Name:\tqemu\nVmPeak:\t 9 kB\nVmRSS:\t  131072 kB\nThreads: 5\n"));
        assertEquals(ProcFigures.UNKNOWN, ProcFigures.parseVmRss("Name:\tzombie\nState:\tZ (zombie)\n"), "a zombie has none");
        assertEquals(ProcFigures.UNKNOWN, ProcFigures.parseVmRss("VmRSS:\t12"), "cut before the unit");
        assertEquals(ProcFigures.UNKNOWN, ProcFigures.parseVmRss("VmRSS:\t-12 kB"));
        assertEquals(ProcFigures.UNKNOWN, ProcFigures.parseVmRss("VmRSS:\t99999999999999999 kB"), "overflow");
        assertEquals(ProcFigures.UNKNOWN, ProcFigures.parseVmRss(""));
    }

    @Test
    void uptimes() {
        assertEquals(12345670, ProcFigures.parseUptime("12345.67 890.12\n"));
        assertEquals(ProcFigures.UNKNOWN, ProcFigures.parseUptime(""));
        assertEquals(ProcFigures.UNKNOWN, ProcFigures.parseUptime("NaN 1"));
        assertEquals(ProcFigures.UNKNOWN, ProcFigures.parseUptime("-5.0 1"));
        // started 100 s after boot (10000 ticks), the system is up 160 s
        assertEquals(60_000, ProcFigures.processUptimeMillis(160_000, 10_000));
        assertEquals(0, ProcFigures.processUptimeMillis(10_000, 10_000 * 100), "never negative");
        assertEquals(ProcFigures.UNKNOWN, ProcFigures.processUptimeMillis(ProcFigures.UNKNOWN, 1));
    }

    @Test
    void aVanishedProcessOrThreadIsEmptyNotAnError() throws Exception {
        Path proc = tmp.resolve("proc");
        Files.createDirectories(proc.resolve("4242/task/4243"));
        Files.writeString(proc.resolve("4242/stat"), stat("qemu", 'S', 10, 0, 1));
        Files.writeString(proc.resolve("4242/task/4243/stat"), stat("CPU 0/TCG", 'R', 8, 1, 1));
        Files.writeString(proc.resolve("uptime"), "100.00 50.00\n");
        ProcFigures f = new ProcFigures(proc);
        assertEquals(100, f.stat(4242).orElseThrow().cpuMillis());
        assertEquals(90, f.threadStat(4242, 4243).orElseThrow().cpuMillis());
        assertEquals(100_000, f.uptimeMillis());
        assertEquals(ProcFigures.UNKNOWN, f.rssBytes(4242), "no status file");
        assertTrue(f.stat(999).isEmpty());
        assertTrue(f.threadStat(4242, 999).isEmpty());
        Files.createDirectories(proc.resolve("777/stat")); // a directory where a file should be
        assertTrue(f.stat(777).isEmpty());
    }

    @Test
    void ourOwnProcessReadsPlausibly() {
        ProcFigures f = new ProcFigures(Path.of("/proc"));
        long pid = ProcessHandle.current().pid();
        ProcFigures.Stat s = f.stat(pid).orElseThrow();
        assertTrue(s.cpuTicks() > 0, "this JVM has used CPU");
        assertTrue(f.rssBytes(pid) > 1 << 20, "more than a MiB resident");
        long up = ProcFigures.processUptimeMillis(f.uptimeMillis(), s.startTicks());
        assertTrue(up >= 0 && up < 24L * 3600 * 1000, "started within a day: " + up);
    }
}
