package org.hvkit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.hvkit.hypervisor.InstanceState;
import org.junit.jupiter.api.Test;

class StateLabelsTest {

    @Test
    void aGuestsOwnShutdownIsNamedSoTheRestAsTheyAre() {
        assertEquals("shutdown by guest", StateLabels.of(InstanceState.SHUTDOWN));
        assertEquals("running", StateLabels.of(InstanceState.RUNNING));
        assertEquals("unresponsive", StateLabels.of(InstanceState.UNRESPONSIVE));
    }
}
