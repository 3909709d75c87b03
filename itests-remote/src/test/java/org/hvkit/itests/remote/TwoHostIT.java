package org.hvkit.itests.remote;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Issue #16's proof on real QEMU: {@code distribution/twohost/proof.sh --faults} boots two hvkit
 * Karafs in the network namespaces host-a and host-b (joined by a veth, ZooKeeper discovery,
 * Aries RSA's fastbin transport bound to each host's management address) and drives the real test guest from host-a's console across both:
 * start on host-b, list, live migration to host-a, stop; then host-b's Karaf killed and
 * restarted, ZooKeeper killed and restarted. The script checks every step; this test runs it
 * with a bound, streams its output and fails with the step that failed. It needs root, QEMU and
 * /dev/net/tun: without them it skips loudly, or fails where {@code HVKIT_REQUIRE_NATIVE=1}.
 */
class TwoHostIT {

    /** Bound of the whole run; the script's own waits are bounded too (a run takes a few minutes). */
    private static final long LIMIT_MINUTES = 20;

    @Test
    void hostAsConsoleDrivesHostB() throws Exception {
        requireNative();
        Path script = Path.of(System.getProperty("hvkit.twohost.script"));
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), "--faults").redirectErrorStream(true);
        pb.environment().put("TH_DIR", path("hvkit.twohost.dir"));
        pb.environment().put("TH_DIST", path("hvkit.twohost.dist"));
        pb.environment().put("TH_M2", path("hvkit.m2"));
        pb.environment().put("TH_JAVA_HOME", path("java.home"));
        pb.environment().put("GUEST_DIR", path("hvkit.guest.dir"));
        long t0 = System.nanoTime();
        Process p = pb.start();
        Deque<String> tail = new ArrayDeque<>();
        String[] lastStep = {"(none)"};
        String[] failure = {null};
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    System.out.println("[twohost] " + line);
                    synchronized (tail) {
                        if (line.startsWith("==> ")) {
                            lastStep[0] = line.substring(4);
                        }
                        if (line.startsWith("TWO-HOST FAILED: ")) {
                            failure[0] = line.substring("TWO-HOST FAILED: ".length());
                        }
                        tail.addLast(line);
                        if (tail.size() > 40) {
                            tail.removeFirst();
                        }
                    }
                }
            } catch (IOException e) {
                System.out.println("[twohost] output closed: " + e);
            }
        }, "twohost-output");
        reader.setDaemon(true);
        reader.start();
        if (!p.waitFor(LIMIT_MINUTES, TimeUnit.MINUTES)) {
            // SIGTERM: the script's trap stops both Karafs, their QEMUs, ZooKeeper and the namespaces
            p.destroy();
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
            fail("the two-host proof did not finish within " + LIMIT_MINUTES + " minutes; last step: " + lastStep[0]);
        }
        reader.join(TimeUnit.SECONDS.toMillis(30));
        int rc = p.exitValue();
        System.out.printf("[twohost] exit %d after %.1f s%n", rc, (System.nanoTime() - t0) / 1e9);
        synchronized (tail) {
            if (rc != 0) {
                fail("the two-host proof failed (exit " + rc + ") at step '" + lastStep[0] + "': "
                        + (failure[0] != null ? failure[0] : String.join("\n", tail)));
            }
            assertTrue(tail.stream().anyMatch(l -> l.startsWith("TWO-HOST OK")),
                    "the script exited 0 without its final 'TWO-HOST OK' line:\n" + String.join("\n", tail));
        }
    }

    /** A path from a system property, absolute and normalized (instance files refuse "dir/../x"). */
    private static String path(String property) {
        return Path.of(System.getProperty(property)).toAbsolutePath().normalize().toString();
    }

    /** Skips loudly, or fails under HVKIT_REQUIRE_NATIVE=1, when this machine cannot run two hosts. */
    private static void requireNative() throws IOException {
        String why = null;
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:") && !line.split("\\s+")[2].equals("0")) {
                why = "not running as root (effective uid " + line.split("\\s+")[2] + ")";
            }
        }
        if (why == null && !Files.exists(Path.of("/dev/net/tun"))) {
            why = "no /dev/net/tun";
        }
        if (why == null && !Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64"))) {
            why = "no /usr/bin/qemu-system-x86_64";
        }
        if (why == null) {
            return;
        }
        System.out.println("*** SKIPPED TwoHostIT: " + why + " ***");
        if ("1".equals(System.getenv("HVKIT_REQUIRE_NATIVE")) || Boolean.getBoolean("hvkit.requireNative")) {
            fail("TwoHostIT cannot run and native tests are required (HVKIT_REQUIRE_NATIVE=1 or"
                    + " -Dhvkit.requireNative=true): " + why);
        }
        Assumptions.abort(why);
    }
}
