package org.hvkit.uidpool.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * "Does any process run under this uid?" — from {@code /proc/<pid>/status} ({@code Uid:} real,
 * effective, saved and filesystem uid), without running {@code pgrep} (Ganeti ran
 * {@code pgrep -u}, which looks at the effective uid only).
 */
final class ProcessUids {

    private final Path proc;

    ProcessUids() {
        this(Path.of("/proc"));
    }

    ProcessUids(Path proc) {
        this.proc = proc;
    }

    boolean anyProcessRunsAs(long uid) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(proc, ProcessUids::isPid)) {
            for (Path p : entries) {
                if (runsAs(p.resolve("status"), uid)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isPid(Path p) {
        String n = p.getFileName().toString();
        return !n.isEmpty() && n.chars().allMatch(Character::isDigit);
    }

    private static boolean runsAs(Path status, long uid) {
        try {
            for (String line : Files.readAllLines(status, StandardCharsets.US_ASCII)) {
                // a zombie (killed QEMU not yet reaped by PID 1) holds nothing under its uid
                if (line.startsWith("State:") && (line.contains("Z (zombie)") || line.contains("X (dead)"))) {
                    return false;
                }
                if (line.startsWith("Uid:")) {
                    String[] f = line.substring(4).trim().split("\\s+");
                    for (String v : f) {
                        if (Long.parseLong(v) == uid) {
                            return true;
                        }
                    }
                    return false;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // the process exited while we looked, or the file is not what we expect: not a match
        }
        return false;
    }
}
