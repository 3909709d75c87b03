package org.hvkit.hypervisor;

import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/**
 * Progress of a migration as seen on the source.
 *
 * @param status         the state
 * @param transferred    bytes of guest RAM transferred so far
 * @param remaining      bytes of guest RAM still to transfer
 * @param total          bytes of guest RAM in all
 * @param downtimeMillis how long the guest was paused for the switch-over, in milliseconds, once
 *                       {@link State#COMPLETED}; -1 while unknown (since 1.3)
 * @param completedAt    when the hypervisor itself reported completion (QEMU's timestamp of its
 *                       {@code MIGRATION completed} event), or null while not completed or when
 *                       completion was seen by polling (since 1.3)
 */
public record MigrationStatus(State status, long transferred, long remaining, long total, long downtimeMillis,
                              Instant completedAt) implements Serializable {

    private static final long serialVersionUID = 1L;

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
        if (downtimeMillis < -1) {
            throw new IllegalArgumentException("downtimeMillis must be -1 (unknown) or at least 0, got "
                    + downtimeMillis);
        }
    }

    /** Progress without the completion figures (downtime unknown, no completion time): the 1.0 constructor. */
    public MigrationStatus(State status, long transferred, long remaining, long total) {
        this(status, transferred, remaining, total, -1, null);
    }

    /** This status, completed at {@code at} (null: seen by polling) after a pause of {@code downtimeMillis}. */
    public MigrationStatus completed(long downtimeMillis, Instant at) {
        return new MigrationStatus(State.COMPLETED, transferred, 0, total, downtimeMillis, at);
    }
}
