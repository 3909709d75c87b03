package org.hvkit.netdev;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
 * they are skipped with a loud line saying why (CI runs as root, so there they run).
 */
final class PrivateNetns {

    private PrivateNetns() {
    }

    static void require() {
        String reason = whyNot();
        if (reason != null) {
            System.out.println("*** SKIPPED netdev native test: " + reason + " ***");
        }
        assumeTrue(reason == null, reason);
    }

    private static String whyNot() {
        String netns = System.getenv("HVKIT_NETNS");
        if (!"private".equals(netns)) {
            return "not inside a private network namespace (" + (netns == null ? "HVKIT_NETNS unset" : netns) + ")";
        }
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            return "/dev/net/tun is missing";
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:") && !line.split("\\s+")[2].equals("0")) {
                    return "not running as root (effective uid " + line.split("\\s+")[2] + ")";
                }
            }
        } catch (IOException e) {
            return "cannot read /proc/self/status: " + e;
        }
        return null;
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
