package org.hvkit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.junit.jupiter.api.Test;

/** hv:nic-add's and hv:nic-modify's options become a NIC, or an error naming what is wrong. */
class NicActionTest {

    @Test
    void optionsBecomeANic() throws Exception {
        assertEquals(new Nic("aa:00:00:00:00:01", null, NicMode.BRIDGED, "br0"),
                NicAction.nic(" AA:00:00:00:00:01 ", "bridged", "br0", null));
        assertEquals(new Nic("aa:00:00:00:00:02", "192.0.2.7", NicMode.ROUTED, ""),
                NicAction.nic("aa:00:00:00:00:02", "Routed", null, " 192.0.2.7 "));
    }

    @Test
    void badOptionsAreNamed() {
        assertEquals("--mode must be bridged or routed, got 'openvswitch'", assertThrows(HypervisorException.class,
                () -> NicAction.nic("aa:00:00:00:00:01", "openvswitch", "br0", null)).getMessage());
        assertEquals("--mode must be bridged or routed, got 'x?y'", assertThrows(HypervisorException.class,
                () -> NicAction.nic("aa:00:00:00:00:01", "x\ny", "br0", null)).getMessage());
        String e = assertThrows(HypervisorException.class, () -> NicAction.nic("eth0", "bridged", "br0", null))
                .getMessage();
        assertEquals(true, e.startsWith("Bad NIC: ") && e.contains("is not a valid MAC address"), e);
        String m = assertThrows(HypervisorException.class,
                () -> NicAction.nic("01:00:00:00:00:01", "bridged", "br0", null)).getMessage();
        assertEquals(true, m.startsWith("Bad NIC: "), m);
    }
}
