package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ParameterChecksTest {

    private static final Map<String, ParameterSpec> PARAMS = catalogue(
            ParameterSpec.of("kernel_path", ParameterType.STRING, "", ParameterCheck.OPT_FILE_CHECK, "kernel"),
            ParameterSpec.of("boot_order", ParameterType.STRING, "disk",
                    ParameterCheck.inSet(true, List.of("cdrom", "disk", "network")), "boot"),
            ParameterSpec.global("migration_port", ParameterType.INT, 8102L, ParameterCheck.NET_PORT_CHECK, "port"),
            ParameterSpec.of("acpi", ParameterType.BOOL, true, ParameterCheck.NO_CHECK, "acpi"),
            ParameterSpec.of("root_path", ParameterType.STRING, "/dev/vda1", ParameterCheck.REQUIRED_CHECK, "root"),
            ParameterSpec.of("kernel_args", ParameterType.STRING, "ro", ParameterCheck.NO_CHECK, "args"));

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
    void unknownKeyNamesTheNearestParameter() {
        assertEquals("Parameter 'kernel_pat' is not supported (did you mean 'kernel_path'?)",
                syntaxError(with("kernel_pat", "/boot/vmlinuz")));
        assertEquals("Parameter 'migraton_port' is not supported (did you mean 'migration_port'?)",
                syntaxError(with("migraton_port", 8102L)));
        assertEquals("Parameter 'acip' is not supported (did you mean 'acpi'?)", syntaxError(with("acip", true)));
        assertEquals("Parameter 'kernel_args\\u0000' is not supported (did you mean 'kernel_args'?)",
                syntaxError(with("kernel_args\u0000", "x")), "the key is quoted escaped");
    }

    @ParameterizedTest
    @ValueSource(strings = {"panic\u0000x", "panic\nx", "panic\rx", "panic\tx", "panic\u001bx", "panic\u007fx"})
    void stringValuesRefuseControlCharacters(String value) {
        String expected = String.format("Parameter 'kernel_args' contains a control character (U+%04X at offset 5);"
                + " not allowed in values that reach QEMU's command line", (int) value.charAt(5));
        assertEquals(expected, syntaxError(with("kernel_args", value)));
        assertEquals("Parameter 'root_path' contains a control character (U+0000 at offset 0); not allowed in values"
                + " that reach QEMU's command line", syntaxError(with("root_path", "\u0000/dev/vda1")));
    }

    @Test
    void printableStringValuesPass() throws ParameterException {
        ParameterChecks.checkSyntax(PARAMS, with("kernel_args", "console=ttyS0 caf\u00e9 \u0085 ~"));
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
    void fillOverlaysWithoutCoercing() throws ParameterException {
        Map<String, Object> own = new LinkedHashMap<>();
        own.put("acpi", false);
        own.put("migration_port", 9000);
        own.put("root_path", null);
        own.put("bogus", "1");
        Map<String, Object> filled = ParameterChecks.fill(PARAMS, defaults(), own);
        assertEquals(false, filled.get("acpi"));
        assertEquals(9000L, filled.get("migration_port"), "an Integer is stored as a Long");
        assertEquals("disk", filled.get("boot_order"));
        assertTrue(filled.containsKey("root_path") && filled.get("root_path") == null, "null stays null");
        assertEquals("1", filled.get("bogus"), "unknown keys are kept for the syntax check to name");
        assertEquals(List.of("kernel_path", "boot_order", "migration_port", "acpi", "root_path", "kernel_args", "bogus"),
                List.copyOf(filled.keySet()));
        Map<String, Object> untyped = new LinkedHashMap<>();
        untyped.put("bogus", List.of(1));
        assertEquals(List.of(1), ParameterChecks.fill(PARAMS, defaults(), untyped).get("bogus"));
    }

    static Stream<Arguments> wronglyTypedValues() {
        return Stream.of(
                Arguments.of("root_path", 7L, "Parameter 'root_path' must be of type string (current value: 7, a number)"),
                Arguments.of("root_path", 7, "Parameter 'root_path' must be of type string (current value: 7, a number)"),
                Arguments.of("root_path", true,
                        "Parameter 'root_path' must be of type string (current value: true, a boolean)"),
                Arguments.of("acpi", "false", "Parameter 'acpi' must be of type bool (current value: 'false', a string)"),
                Arguments.of("acpi", 1L, "Parameter 'acpi' must be of type bool (current value: 1, a number)"),
                Arguments.of("migration_port", "9000",
                        "Parameter 'migration_port' must be of type int (current value: '9000', a string)"),
                Arguments.of("migration_port", 1.5,
                        "Parameter 'migration_port' must be of type int (current value: 1.5, a number)"),
                Arguments.of("migration_port", 9000.0,
                        "Parameter 'migration_port' must be of type int (current value: 9000.0, a number)"),
                Arguments.of("migration_port", true,
                        "Parameter 'migration_port' must be of type int (current value: true, a boolean)"),
                Arguments.of("kernel_args", List.of("a", "b"),
                        "Parameter 'kernel_args' must be of type string (current value: [a, b], a list)"),
                Arguments.of("kernel_args", Map.of("a", 1),
                        "Parameter 'kernel_args' must be of type string (current value: {a=1}, a map)"),
                Arguments.of("acpi", "x\u0000".repeat(40), "Parameter 'acpi' must be of type bool (current value: '"
                        + "x\\u0000".repeat(32) + "'... (80 characters), a string)"));
    }

    @ParameterizedTest
    @MethodSource("wronglyTypedValues")
    void fillRefusesValuesOfAnotherType(String name, Object value, String message) {
        ParameterException e = assertThrows(ParameterException.class,
                () -> ParameterChecks.fill(PARAMS, defaults(), Map.of(name, value)));
        assertEquals(message, e.getMessage());
        assertEquals(name, e.parameter());
    }

    @Test
    void coerceStillConvertsText() throws ParameterException {
        assertEquals(false, ParameterType.BOOL.coerce("acpi", "false"));
        assertEquals(9000L, ParameterType.INT.coerce("migration_port", "9000"));
        assertEquals("7", ParameterType.STRING.coerce("root_path", 7));
        ParameterException e = assertThrows(ParameterException.class, () -> ParameterType.BOOL.coerce("acpi", "maybe"));
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
