package org.hvkit.netdev;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;

/**
 * The one guard of every hvkit test that needs root, a private network namespace, /dev/net/tun
 * or QEMU (netdev's, the uid pool's and the KVM driver's tests share it through this module's
 * test jar). Without them the test goes with a loud SKIPPED line — or, where a skip would hide
 * a broken machine (CI sets {@code HVKIT_REQUIRE_NATIVE=1}, or {@code -Dhvkit.requireNative=true}),
 * fails with the same reason.
 */
public final class NativeTests {

    /** The QEMU the native tests run. */
    public static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");

    private NativeTests() {
    }

    /** Skips (or fails) the calling test when {@code reason} is not null. */
    public static void require(String what, String reason) {
        if (reason == null) {
            return;
        }
        System.out.println("*** SKIPPED " + what + ": " + reason + " ***");
        if ("1".equals(System.getenv("HVKIT_REQUIRE_NATIVE")) || Boolean.getBoolean("hvkit.requireNative")) {
            fail(what + " cannot run and native tests are required (HVKIT_REQUIRE_NATIVE=1 or"
                    + " -Dhvkit.requireNative=true): " + reason);
        }
        Assumptions.abort(reason);
    }

    /** Why this JVM is not root (effective uid 0), or null when it is. */
    public static String whyNotRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:") && !line.split("\\s+")[2].equals("0")) {
                    return "not running as root (effective uid " + line.split("\\s+")[2] + ")";
                }
            }
            return null;
        } catch (IOException e) {
            return "cannot read /proc/self/status: " + e;
        }
    }

    /**
     * Why this JVM is not root inside the private network namespace that
     * {@code bundles/netdev/src/test/netns-jvm/bin/java} creates (with /dev/net/tun), or null.
     */
    public static String whyNotPrivateNetns() {
        String netns = System.getenv("HVKIT_NETNS");
        if (!"private".equals(netns)) {
            return "not inside a private network namespace (" + (netns == null ? "HVKIT_NETNS unset" : netns) + ")";
        }
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            return "/dev/net/tun is missing";
        }
        return whyNotRoot();
    }

    /** Why QEMU cannot run here, or null. */
    public static String whyNoQemu() {
        return Files.isExecutable(QEMU) ? null : QEMU + " is not installed (apt-get install qemu-system-x86)";
    }

    /** Why a test cannot start real QEMU with taps (QEMU, root in the private namespace), or null. */
    public static String whyNoRealQemu() {
        String noQemu = whyNoQemu();
        return noQemu != null ? noQemu : whyNotPrivateNetns();
    }
}
