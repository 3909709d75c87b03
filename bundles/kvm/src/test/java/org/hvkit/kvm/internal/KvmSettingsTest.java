package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.hvkit.kvm.internal.params.KvmParameters;
import org.junit.jupiter.api.Test;

/** Node-wide hvparam defaults from {@code hvparam.<name>} configuration keys. */
class KvmSettingsTest {

    @Test
    void noKeysMeansGanetisDefaults() {
        assertEquals(KvmParameters.DEFAULTS, KvmSettings.hvparamDefaults(Map.of("root.dir", "/x")));
    }

    @Test
    void textValuesAreCoercedToTheParameterType() {
        Map<String, Object> d = KvmSettings.hvparamDefaults(Map.of(
                "hvparam.migration_port", "18102", "hvparam.acpi", "no", "hvparam.serial_console", "false",
                "hvparam.kernel_args", "ro console=ttyS0"));
        assertEquals(18102L, ((Number) d.get("migration_port")).longValue());
        assertEquals(Boolean.FALSE, d.get("acpi"));
        assertEquals("ro console=ttyS0", d.get("kernel_args"));
        assertEquals(KvmParameters.DEFAULTS.keySet(), d.keySet(), "no parameter added or lost");
    }

    @Test
    void unknownParameterNamesTheKeyAndTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KvmSettings.hvparamDefaults(Map.of("hvparam.boot_ordr", "disk")));
        assertTrue(e.getMessage().startsWith("org.hvkit.kvm: hvparam.boot_ordr names no KVM parameter (known: acpi,"),
                e.getMessage());
        assertTrue(e.getMessage().contains("boot_order"), e.getMessage());
    }

    @Test
    void badValuesNameTheKey() {
        IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
                () -> KvmSettings.hvparamDefaults(Map.of("hvparam.migration_port", "eighty")));
        assertTrue(type.getMessage().startsWith("org.hvkit.kvm: hvparam.migration_port is invalid: "), type.getMessage());
        IllegalArgumentException check = assertThrows(IllegalArgumentException.class,
                () -> KvmSettings.hvparamDefaults(Map.of("hvparam.boot_order", "sideways")));
        assertTrue(check.getMessage().startsWith("org.hvkit.kvm: hvparam.boot_order is invalid: "), check.getMessage());
        assertTrue(check.getMessage().contains("sideways"), check.getMessage());
    }
}
