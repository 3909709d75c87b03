package org.hvkit.netdev;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Guards the tests that create taps, bridges and routes: they run only as root inside the
 * private network namespace that {@code src/test/netns-jvm/bin/java} creates. Anywhere else
 * they are skipped, or fail where native tests are required ({@link NativeTests}).
 */
final class PrivateNetns {

    private PrivateNetns() {
    }

    static void require() {
        NativeTests.require("netdev native test", NativeTests.whyNotPrivateNetns());
    }

    /** QEMU for x86_64, or a skip of {@code test} when it is not installed. */
    static Path qemu(String test) {
        NativeTests.require(test, NativeTests.whyNoQemu());
        return NativeTests.QEMU;
    }

    /** Whether process {@code pid} exists and is not a zombie (orphans wait for init to reap them). */
    static boolean running(long pid) {
        String state = state(Path.of("/proc/" + pid + "/stat"));
        return state != null && !state.startsWith("Z") && !state.startsWith("X");
    }

    /** The processes of process group {@code pgid} that are running (not zombies). */
    static List<Long> runningInGroup(long pgid) throws IOException {
        List<Long> out = new ArrayList<>();
        try (var s = Files.list(Path.of("/proc"))) {
            for (Path dir : s.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                String state = state(dir.resolve("stat"));
                // after "(comm)": state, ppid, pgrp
                if (state != null && !state.startsWith("Z") && !state.startsWith("X")
                        && Long.parseLong(state.split(" ")[2]) == pgid) {
                    out.add(Long.parseLong(dir.getFileName().toString()));
                }
            }
        }
        return out;
    }

    /** What follows the command name in {@code /proc/<pid>/stat}, null when the process is gone. */
    private static String state(Path stat) {
        try {
            String line = Files.readString(stat);
            return line.substring(line.lastIndexOf(')') + 2); // the name may hold spaces and parentheses
        } catch (IOException e) {
            return null;
        }
    }

    /** Runs a command (no shell) and returns its stdout; fails on a non-zero exit. */
    static String sh(String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", argv) + " failed: " + out);
        }
        return out;
    }

    /** Names of this process's open descriptors. */
    static List<String> openFds() throws IOException {
        List<String> out = new ArrayList<>();
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            s.forEach(p -> out.add(p.getFileName().toString()));
        }
        return out;
    }
}
