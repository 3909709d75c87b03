package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParameterChecksTest {

    private static final Map<String, ParameterSpec> PARAMS = catalogue(
            ParameterSpec.of("kernel_path", ParameterType.STRING, "", ParameterCheck.OPT_FILE_CHECK, "kernel"),
            ParameterSpec.of("boot_order", ParameterType.STRING, "disk",
                    ParameterCheck.inSet(true, List.of("cdrom", "disk", "network")), "boot"),
            ParameterSpec.global("migration_port", ParameterType.INT, 8102L, ParameterCheck.NET_PORT_CHECK, "port"),
            ParameterSpec.of("acpi", ParameterType.BOOL, true, ParameterCheck.NO_CHECK, "acpi"),
            ParameterSpec.of("root_path", ParameterType.STRING, "/dev/vda1", ParameterCheck.REQUIRED_CHECK, "root"));

    private static Map<String, ParameterSpec> catalogue(ParameterSpec... specs) {
        Map<String, ParameterSpec> m = new LinkedHashMap<>();
        for (ParameterSpec s : specs) {
            m.put(s.name(), s);
        }
        return m;
    }

    private static Map<String, Object> defaults() {
        Map<String, Object> m = new LinkedHashMap<>();
        PARAMS.values().forEach(s -> m.put(s.name(), s.defaultValue()));
        return m;
    }

    private static Map<String, Object> with(String key, Object value) {
        Map<String, Object> m = defaults();
        m.put(key, value);
        return m;
    }

    private static String syntaxError(Map<String, Object> hv) {
        return assertThrows(ParameterException.class, () -> ParameterChecks.checkSyntax(PARAMS, hv)).getMessage();
    }

    @Test
    void defaultsPass() throws ParameterException {
        ParameterChecks.checkSyntax(PARAMS, defaults());
        ParameterChecks.validate(PARAMS, defaults());
    }

    @Test
    void unknownKey() {
        ParameterException e = assertThrows(ParameterException.class,
                () -> ParameterChecks.checkSyntax(PARAMS, with("cpu_mask", "0")));
        assertEquals("Parameter 'cpu_mask' is not supported", e.getMessage());
        assertEquals("cpu_mask", e.parameter());
    }

    @Test
    void missingKey() {
        Map<String, Object> hv = defaults();
        hv.remove("acpi");
        assertEquals("Parameter 'acpi' is missing", syntaxError(hv));
    }

    @Test
    void requiredButFalsy() {
        assertEquals("Parameter 'root_path' is required but is currently not defined", syntaxError(with("root_path", "")));
        assertEquals("Parameter 'migration_port' is required but is currently not defined",
                syntaxError(with("migration_port", 0L)));
        assertEquals("Parameter 'boot_order' is required but is currently not defined",
                syntaxError(with("boot_order", null)));
    }

    @Test
    void optionalFalsyValuesSkipTheirChecks() throws ParameterException {
        ParameterChecks.checkSyntax(PARAMS, with("kernel_path", ""));
        ParameterChecks.checkSyntax(PARAMS, with("acpi", false));
        ParameterChecks.validate(PARAMS, with("kernel_path", ""));
    }

    @Test
    void syntaxFailureQuotesTextAndValue() {
        assertEquals("Parameter 'kernel_path' fails syntax check: must be an absolute normalized path"
                + " (current value: 'boot/vmlinuz')", syntaxError(with("kernel_path", "boot/vmlinuz")));
        assertEquals("Parameter 'boot_order' fails syntax check: The value must be one of: cdrom, disk, network"
                + " (current value: 'floppy')", syntaxError(with("boot_order", "floppy")));
        assertEquals("Parameter 'migration_port' fails syntax check: invalid port number (current value: '65536')",
                syntaxError(with("migration_port", 65536L)));
    }

    @Test
    void wrongTypeIsNamed() {
        assertEquals("Parameter 'migration_port' must be of type int (current value: 'abc')",
                syntaxError(with("migration_port", "abc")));
    }

    @Test
    void nodeValidation(@TempDir Path tmp) throws ParameterException {
        ParameterException e = assertThrows(ParameterException.class,
                () -> ParameterChecks.validate(PARAMS, with("kernel_path", tmp.resolve("nope").toString())));
        assertEquals("Parameter 'kernel_path' fails validation: not found or not a file (current value: '"
                + tmp.resolve("nope") + "')", e.getMessage());
        assertEquals("kernel_path", e.parameter());
    }

    @Test
    void fillOverlaysAndCoerces() throws ParameterException {
        Map<String, Object> filled = ParameterChecks.fill(PARAMS, defaults(),
                Map.of("acpi", "false", "migration_port", "9000", "bogus", 1));
        assertEquals(false, filled.get("acpi"));
        assertEquals(9000L, filled.get("migration_port"));
        assertEquals("disk", filled.get("boot_order"));
        assertEquals(1, filled.get("bogus"), "unknown keys are kept for the syntax check to name");
        assertEquals(List.of("kernel_path", "boot_order", "migration_port", "acpi", "root_path", "bogus"),
                List.copyOf(filled.keySet()));
        ParameterException e = assertThrows(ParameterException.class,
                () -> ParameterChecks.fill(PARAMS, defaults(), Map.of("acpi", "maybe")));
        assertEquals("Parameter 'acpi' must be of type bool (current value: 'maybe')", e.getMessage());
    }

    @Test
    void globalsRefusedAtInstanceLevel() throws ParameterException {
        ParameterException e = assertThrows(ParameterException.class,
                () -> ParameterChecks.checkNoGlobalOverrides(PARAMS, Map.of("migration_port", 1234L)));
        assertEquals("The following hypervisor parameters are global and cannot be customized at instance level,"
                + " please modify them at cluster level: migration_port", e.getMessage());
        ParameterChecks.checkNoGlobalOverrides(PARAMS, Map.of("acpi", false));
    }

    @Test
    void falsiness() {
        assertTrue(ParameterChecks.isFalsy(null));
        assertTrue(ParameterChecks.isFalsy(""));
        assertTrue(ParameterChecks.isFalsy(0L));
        assertTrue(ParameterChecks.isFalsy(false));
        assertEquals(false, ParameterChecks.isFalsy("0"));
        assertEquals(false, ParameterChecks.isFalsy(true));
    }
}
