package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class InstanceTest {

    static final String NAME_RULE = "1-63 characters: letters, digits, '.', '_', '-', starting with a letter or digit;"
            + " every label between dots is non-empty and starts with a letter or digit";

    @ParameterizedTest
    @ValueSource(strings = {"a", "0", "web1", "web1.example.com", "a_b", "a-b", "a-", "A.b-c_d", "1.2.3", "x.y_",
        "a.b.c.d.e.f", "123456789012345678901234567890123456789012345678901234567890123"})
    void validNames(String name) throws HypervisorException {
        assertTrue(Instance.isValidName(name), name);
        assertSame(name, Instance.requireValidName(name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "...", "a..b", "a.", ".a", "-a", "_a", "a.-b", "a._b", "a/b", "/a", "../x",
        "../../../../srv/victim", "a b", "x\u0000y", "a\nb", "caf\u00e9", "a:b", "a\\b",
        "1234567890123456789012345678901234567890123456789012345678901234"})
    void invalidNames(String name) {
        assertFalse(Instance.isValidName(name), name);
        assertThrows(HypervisorException.class, () -> Instance.requireValidName(name));
        assertThrows(IllegalArgumentException.class, () -> Instance.builder(name).build());
    }

    private static String refusal(String name) {
        return assertThrows(HypervisorException.class, () -> Instance.requireValidName(name)).getMessage();
    }

    @Test
    void refusalQuotesTheNameSafely() {
        assertEquals("Invalid instance name '../../srv/victim': " + NAME_RULE, refusal("../../srv/victim"));
        assertEquals("Invalid instance name '': " + NAME_RULE, refusal(""));
        assertEquals("Invalid instance name null: " + NAME_RULE, refusal(null));
        assertEquals("Invalid instance name 'x\\u0000y': " + NAME_RULE, refusal("x\u0000y"),
                "control characters are escaped");
        assertEquals("Invalid instance name 'a\\u001B[2Jb\\u202E': " + NAME_RULE, refusal("a\u001b[2Jb\u202e"),
                "terminal escapes and bidi overrides are escaped");
        assertEquals("Invalid instance name '" + "a".repeat(64) + "'... (300 characters): " + NAME_RULE,
                refusal("a".repeat(300)), "long names are truncated");
        assertEquals("Invalid instance name 'a\\\\u0000b': " + NAME_RULE, refusal("a\\u0000b"),
                "a literal backslash is doubled, so it cannot pass for an escape");
    }

    @Test
    void constructorRefusesWithTheSameText() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Instance.builder("a..b").build());
        assertEquals("Invalid instance name 'a..b': " + NAME_RULE, e.getMessage());
    }

    @Test
    void macAddressesAreUniqueWithinAnInstance() {
        Nic a = new Nic("aa:00:00:00:00:01", null, NicMode.BRIDGED, "br0");
        Nic b = new Nic("aa:00:00:00:00:02", null, NicMode.BRIDGED, "br0");
        Nic a2 = new Nic("aa:00:00:00:00:01", "192.0.2.1", NicMode.ROUTED, "100");
        assertEquals(2, Instance.builder("x").nic(a).nic(b).build().nics().size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Instance.builder("x").nic(a).nic(b).nic(a2).build());
        assertEquals("nics[2].mac: aa:00:00:00:00:01 is already used by nics[0]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Instance("x", null, null, null, null, Arrays.asList(b, b), null, null, 0, null, null));
        assertEquals("nics[1].mac: aa:00:00:00:00:02 is already used by nics[0]", e.getMessage());
    }

    @Test
    void nicsNeedAUnicastMac() {
        for (String mac : List.of("01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "33:33:00:00:00:01", "ab:00:00:00:00:00")) {
            assertFalse(Nic.isUnicastMac(mac), mac);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Nic(mac, null, NicMode.BRIDGED, ""));
            assertEquals(mac + " is a multicast address; a NIC needs a unicast MAC (lowest bit of the first octet"
                    + " clear)", e.getMessage());
        }
        for (String mac : List.of("aa:00:00:00:00:01", "00:00:00:00:00:00", "52:54:00:12:34:56", "fe:ff:ff:ff:ff:ff")) {
            assertTrue(Nic.isUnicastMac(mac), mac);
            assertEquals(mac, new Nic(mac, null, NicMode.BRIDGED, "").mac());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Nic.isUnicastMac("AA:00"));
        assertEquals("'AA:00' is not a valid MAC address", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Nic("aa:00:00:00:00:0\u0000", null,
                NicMode.BRIDGED, ""));
        assertEquals("'aa:00:00:00:00:0\\u0000' is not a valid MAC address (expected six colon-separated lower-case hex"
                + " pairs, e.g. aa:00:00:12:34:56)", e.getMessage());
    }
}
