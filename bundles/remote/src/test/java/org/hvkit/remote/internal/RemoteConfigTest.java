package org.hvkit.remote.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

class RemoteConfigTest {

    private static RemoteConfig of(Map<String, ?> p) {
        return RemoteConfig.of(p, RemoteConfig.LocalAddresses.SYSTEM);
    }

    private static String error(Map<String, ?> p) {
        return assertThrows(IllegalArgumentException.class, () -> of(p)).getMessage();
    }

    @Test
    void withoutAddressNothingIsExportedAndTheDefaultsHold() {
        RemoteConfig c = of(Map.of());
        assertFalse(c.exports());
        assertNull(c.address());
        assertEquals(8201, c.port());
        assertEquals(900, c.timeoutSeconds());
    }

    @Test
    void anAddressOfThisHostIsTaken() {
        RemoteConfig c = of(Map.of("address", "127.0.0.1", "port", "8300", "timeout.seconds", 60));
        assertTrue(c.exports());
        assertEquals("127.0.0.1", c.address().getHostAddress());
        assertEquals(8300, c.port());
        assertEquals(60, c.timeoutSeconds());
    }

    @Test
    void badAddressesNameTheKey() {
        assertTrue(error(Map.of("address", "0.0.0.0")).contains("address 0.0.0.0 is not one address"));
        assertTrue(error(Map.of("address", "::")).contains("is not one address"));
        assertTrue(error(Map.of("address", "host-a.example")).contains("address 'host-a.example' is not an IP address"));
        // TEST-NET-1 (RFC 5737): no interface of this host has it
        String notHere = error(Map.of("address", "192.0.2.55"));
        assertTrue(notHere.contains("address 192.0.2.55 is not an address of this host"), notHere);
        assertTrue(notHere.startsWith("org.hvkit.remote: "), notHere);
        assertTrue(error(Map.of("address", "224.0.0.1")).contains("is not one address"));
        assertTrue(error(Map.of("address", "1.2.3.4\n")).contains("is not"), "control characters");
    }

    @Test
    void badPortsAndTimeoutsNameTheKeyAndTheRange() {
        assertEquals("org.hvkit.remote: port '0' is not allowed (allowed: an integer 1..65535)",
                error(Map.of("port", "0")));
        assertTrue(error(Map.of("port", 65536)).contains("port '65536' is not allowed"));
        assertTrue(error(Map.of("port", "80a")).contains("port '80a'"));
        assertTrue(error(Map.of("timeout.seconds", "0")).contains("timeout.seconds '0' is not allowed (allowed: an integer 1.."));
        assertTrue(error(Map.of("timeout.seconds", -5)).contains("timeout.seconds '-5'"));
        assertTrue(error(Map.of("timeout.seconds", 1.5)).contains("timeout.seconds '1.5'"));
        assertTrue(error(Map.of("timeout.seconds", "3000000")).contains("timeout.seconds"), "over the provider's int millis");
    }
}
