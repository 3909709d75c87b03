package org.hvkit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvkit.hypervisor.MigrationStatus;
import org.hvkit.hypervisor.MigrationStatus.Phase;
import org.hvkit.hypervisor.MigrationStatus.State;
import org.junit.jupiter.api.Test;

/** hv:migrate's progress lines: the phase, and what decides whether pre-copy converges. */
class MigrateProgressTest {

    @Test
    void preCopyShowsTheDirtyRateAndTheExpectedPause() {
        assertEquals("  active (pre-copy): 12.0 of 128.0 MiB transferred, 1200 pages/s dirtied, expected downtime 41 ms",
                MigrateCommand.progressLine(new MigrationStatus(State.ACTIVE, 12 << 20, 116 << 20, 128 << 20, -1, null,
                        Phase.PRE_COPY, 1200, 41)));
    }

    @Test
    void postCopySaysTheGuestCannotGoBackAndUnknownFiguresAreLeftOut() {
        assertEquals("  active (post-copy): 100.0 of 128.0 MiB transferred — the guest runs on the target now and can"
                + " no longer return to the source", MigrateCommand.progressLine(new MigrationStatus(State.ACTIVE,
                100 << 20, 28 << 20, 128 << 20, -1, null, Phase.POST_COPY, -1, -1)));
        assertEquals("  setup: 0.0 of 0.0 MiB transferred",
                MigrateCommand.progressLine(new MigrationStatus(State.SETUP, 0, 0, 0)));
    }
}
