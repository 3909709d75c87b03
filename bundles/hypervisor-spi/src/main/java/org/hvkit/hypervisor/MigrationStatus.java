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
 * @param phase          what is being transferred while {@link State#ACTIVE} (since 1.3)
 * @param dirtyPagesRate guest pages dirtied per second during pre-copy, -1 while unknown (since 1.3)
 * @param expectedDowntimeMillis the pause the switch-over would take now, in milliseconds, -1
 *                       while unknown (since 1.3)
 */
public record MigrationStatus(State status, long transferred, long remaining, long total, long downtimeMillis,
                              Instant completedAt, Phase phase, long dirtyPagesRate, long expectedDowntimeMillis)
        implements Serializable {

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

    /** What an active migration transfers (QEMU: {@code active}, {@code postcopy-active}, {@code device}). */
    public enum Phase {
        /** Not transferring (not started, set up, or over). */
        NONE,
        /** Pre-copy: RAM is copied while the guest runs on the source. */
        PRE_COPY,
        /**
         * Post-copy: the guest runs on the target and fetches the pages still on the source; from
         * here on the guest cannot be resumed on the source.
         */
        POST_COPY,
        /** The guest is paused and its device state is being transferred (the switch-over). */
        DEVICE_STATE
    }

    public MigrationStatus {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(phase, "phase");
        if (dirtyPagesRate < -1 || expectedDowntimeMillis < -1) {
            throw new IllegalArgumentException("dirtyPagesRate and expectedDowntimeMillis must be -1 (unknown) or at"
                    + " least 0, got " + dirtyPagesRate + " and " + expectedDowntimeMillis);
        }
        if (downtimeMillis < -1) {
            throw new IllegalArgumentException("downtimeMillis must be -1 (unknown) or at least 0, got "
                    + downtimeMillis);
        }
    }

    /** Progress without the completion figures (downtime unknown, no completion time): the 1.0 constructor. */
    public MigrationStatus(State status, long transferred, long remaining, long total) {
        this(status, transferred, remaining, total, -1, null, Phase.NONE, -1, -1);
    }

    /** This status, completed at {@code at} (null: seen by polling) after a pause of {@code downtimeMillis}. */
    public MigrationStatus completed(long downtimeMillis, Instant at) {
        return new MigrationStatus(State.COMPLETED, transferred, 0, total, downtimeMillis, at, Phase.NONE, -1, -1);
    }
}
