package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * The one way a KVM test that needs root, a private network namespace or QEMU goes without
 * them: a loud SKIPPED line — or, where a skip would hide a broken machine (CI sets
 * {@code HVKIT_REQUIRE_NATIVE=1}, or {@code -Dhvkit.requireNative=true}), a failure with the
 * same reason.
 */
public final class NativeTests {

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
}
