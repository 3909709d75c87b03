package org.hvkit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hvkit.hypervisor.HypervisorException;
import org.junit.jupiter.api.Test;

/** {@code hv:balloon}'s MiB argument: a whole number, or an error that names the argument and what it takes. */
class BalloonCommandTest {

    @Test
    void aWholeNumberOfMiB() throws HypervisorException {
        assertEquals(96, BalloonCommand.parse("96"));
        assertEquals(96, BalloonCommand.parse(" 96 "));
    }

    @Test
    void anythingElseIsRefusedNamingTheArgument() {
        for (String bad : new String[] {"", "0", "-5", "1.5", "96M", "abc", "9999999999", null}) {
            HypervisorException e = assertThrows(HypervisorException.class, () -> BalloonCommand.parse(bad), bad);
            assertEquals("MiB must be a whole number of MiB from 1 up to the instance's memory, got '"
                    + (bad == null ? "" : bad.strip()) + "'", e.getMessage());
        }
        HypervisorException ctl = assertThrows(HypervisorException.class, () -> BalloonCommand.parse("1\u001b[2J"));
        assertEquals("MiB must be a whole number of MiB from 1 up to the instance's memory, got '1?[2J'",
                ctl.getMessage());
    }
}
