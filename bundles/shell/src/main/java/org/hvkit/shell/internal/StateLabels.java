package org.hvkit.shell.internal;

import java.util.Locale;

import org.hvkit.hypervisor.InstanceState;

/** How the shell names run states; one place for hv:list, hv:info and hv:stats. */
final class StateLabels {

    private StateLabels() {
    }

    /**
     * The state in words. {@code SHUTDOWN} can only be a guest's own doing: an admin stop ends
     * the process, and only a QEMU under user_shutdown ({@code -no-shutdown}) outlives its guest.
     */
    static String of(InstanceState state) {
        return state == InstanceState.SHUTDOWN ? "shutdown by guest" : state.name().toLowerCase(Locale.ROOT);
    }
}
