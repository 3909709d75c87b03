package org.hvkit.hypervisor;

import java.util.Objects;

/**
 * Progress of a migration as seen on the source.
 *
 * @param status      the state
 * @param transferred bytes of guest RAM transferred so far
 * @param remaining   bytes of guest RAM still to transfer
 * @param total       bytes of guest RAM in all
 */
public record MigrationStatus(State status, long transferred, long remaining, long total) {

    /** Migration states (QEMU's {@code query-migrate} status, reduced). */
    public enum State {
        /** No migration was started. */
        NONE,
        /** Being set up. */
        SETUP,
        /** RAM is being transferred. */
        ACTIVE,
        /** Done; the target runs the guest. */
        COMPLETED,
        /** Failed; the source still runs the guest. */
        FAILED,
        /** Cancelled; the source still runs the guest. */
        CANCELLED;

        /** Whether no more progress will follow. */
        public boolean isFinal() {
            return this == COMPLETED || this == FAILED || this == CANCELLED;
        }
    }

    public MigrationStatus {
        Objects.requireNonNull(status, "status");
    }
}
