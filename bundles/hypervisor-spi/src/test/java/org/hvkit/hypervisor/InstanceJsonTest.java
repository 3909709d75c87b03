package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class InstanceJsonTest {

    private static final String FULL = "{\n"
            + "  \"name\": \"web1.example.com\",\n"
            + "  \"primary_node\": \"node-a\",\n"
            + "  \"hypervisor\": \"kvm\",\n"
            + "  \"hvparams\": {\"acpi\": false, \"kernel_path\": \"/boot/vmlinuz\", \"migration_port\": 8102},\n"
            + "  \"beparams\": {\"memory\": 256, \"vcpus\": 2, \"auto_balance\": true},\n"
            + "  \"nics\": [{\"mac\": \"AA:00:00:12:34:56\", \"ip\": \"192.0.2.10\",\n"
            + "             \"nicparams\": {\"mode\": \"routed\", \"link\": \"100\"}},\n"
            + "           {\"mac\": \"aa:00:00:12:34:57\"}],\n"
            + "  \"disks\": [{\"dev_path\": \"/dev/vg/disk0\", \"mode\": \"rw\", \"size\": 1024}],\n"
            + "  \"disk_template\": \"drbd\",\n"
            + "  \"network_port\": 5910,\n"
            + "  \"tags\": [\"web\"],\n"
            + "  \"uuid\": \"3f0e\",\n"
            + "  \"os\": \"debootstrap\"\n"
            + "}";

    private static final String NAME_RULE = "1-63 characters: letters, digits, '.', '_', '-', starting with a letter"
            + " or digit; every label between dots is non-empty and starts with a letter or digit";

    @Test
    void readsGanetiShapeLeniently() throws ParameterException {
        List<String> warnings = new ArrayList<>();
        Instance i = InstanceJson.read(FULL, warnings::add, true);
        assertEquals("web1.example.com", i.name());
        assertEquals("node-a", i.primaryNode());
        assertEquals("kvm", i.hypervisor());
        assertEquals(false, i.hvparams().get("acpi"));
        assertEquals(8102L, i.hvparams().get("migration_port"));
        assertEquals(new BackendParams(256, 2), i.beparams());
        assertEquals(new Nic("aa:00:00:12:34:56", "192.0.2.10", NicMode.ROUTED, "100"), i.nics().get(0));
        assertEquals(new Nic("aa:00:00:12:34:57", null, NicMode.BRIDGED, ""), i.nics().get(1));
        assertEquals(new Disk("/dev/vg/disk0", DiskMode.RW, 1024), i.disks().get(0));
        assertEquals("drbd", i.diskTemplate());
        assertEquals(5910, i.networkPort());
        assertEquals(List.of("web"), i.tags());
        assertEquals(List.of("Ignoring unknown instance field 'os'"), warnings,
                "known beparams are accepted silently; unknown top-level keys are reported");
    }

    @Test
    void strictByDefault() {
        List<String> warnings = new ArrayList<>();
        ParameterException e = assertThrows(ParameterException.class, () -> InstanceJson.read(FULL, warnings::add));
        assertEquals("Invalid instance definition: os: unknown field", e.getMessage());
        assertEquals("os", e.parameter());
        e = assertThrows(ParameterException.class, () -> InstanceJson.read(FULL));
        assertEquals("Invalid instance definition: os: unknown field", e.getMessage());
        e = assertThrows(ParameterException.class, () -> InstanceJson.read(FULL, warnings::add, false));
        assertEquals("Invalid instance definition: os: unknown field", e.getMessage());
        assertEquals(List.of(), warnings);
    }

    @Test
    void roundTripIsStrictClean() throws ParameterException {
        Instance i = InstanceJson.read(FULL, w -> { }, true);
        Instance again = InstanceJson.read(InstanceJson.write(i), w -> { throw new AssertionError(w); });
        assertEquals(i, again);
    }

    @Test
    void minimalGetsDefaults() throws ParameterException {
        Instance i = InstanceJson.read("{\"name\": \"x\"}");
        assertEquals(BackendParams.DEFAULTS, i.beparams());
        assertEquals("diskless", i.diskTemplate());
        assertEquals(Map.of(), i.hvparams());
        assertTrue(i.nics().isEmpty());
    }

    @Test
    void hvparamKeysAreLeftToTheHypervisor() throws ParameterException {
        Instance i = InstanceJson.read("{\"name\": \"x\", \"hvparams\": {\"kernel_pat\": \"/x\"}}");
        assertEquals(Map.of("kernel_pat", "/x"), i.hvparams());
    }

    private static String error(String json) {
        return assertThrows(ParameterException.class, () -> InstanceJson.read(json, w -> { })).getMessage();
    }

    private static String nic(String mac) {
        return "{\"mac\": \"" + mac + "\"}";
    }

    /** Documents refused in both modes, each with its exact message. */
    static Stream<Arguments> invalidDocuments() {
        String bad = "Invalid instance definition: ";
        String devPathRule = " is not an absolute normalized path (no '.' or '..' segments, no '//', no trailing '/')";
        return Stream.of(
                Arguments.of("{}", bad + "name: is missing (required)"),
                Arguments.of("{\"name\": \"../etc\"}", bad + "name: '../etc' is not a valid instance name (" + NAME_RULE + ")"),
                Arguments.of("{\"name\": \"..\"}", bad + "name: '..' is not a valid instance name (" + NAME_RULE + ")"),
                Arguments.of("{\"name\": \"a..b\"}", bad + "name: 'a..b' is not a valid instance name (" + NAME_RULE + ")"),
                Arguments.of("{\"name\": \"a/b\"}", bad + "name: 'a/b' is not a valid instance name (" + NAME_RULE + ")"),
                Arguments.of("{\"name\": \"x\", \"beparams\": {\"memory\": \"1G\"}}",
                        bad + "beparams.memory: expected an integer, got string '1G'"),
                Arguments.of("{\"name\": \"x\", \"nics\": [" + nic("aa:00:00:00:00:01") + ", " + nic("zz:00:00:00:00:00")
                        + "]}", bad + "nics[1].mac: 'zz:00:00:00:00:00' is not a valid MAC address"
                        + " (expected six colon-separated hex pairs, e.g. aa:00:00:12:34:56)"),
                Arguments.of("{\"name\": \"x\", \"nics\": [{\"mac\": \"aa:00:00:00:00:01\", \"nicparams\": {\"mode\":"
                        + " \"openflow\"}}]}", bad + "nics[0].nicparams.mode: unknown NIC mode 'openflow'"
                        + " (allowed: bridged, routed)"),
                Arguments.of("{\"name\": \"x\", \"disks\": [{\"dev_path\": \"/dev/x\", \"mode\": \"rx\"}]}",
                        bad + "disks[0].mode: unknown disk mode 'rx' (allowed: rw, ro)"),
                Arguments.of("{\"name\": \"x\", \"disk_template\": \"lvm\"}", bad + "disk_template: unknown disk"
                        + " template 'lvm' (allowed: diskless, file, sharedfile, plain, drbd, rbd, blockdev, ext, gluster)"),
                Arguments.of("{\"name\": \"x\", \"network_port\": 70000}",
                        bad + "network_port: 70000 is out of range (allowed: 0..65535, 0 = none)"),
                Arguments.of("{\"name\": \"x\", \"hvparams\": {\"acpi\": []}}",
                        bad + "hvparams.acpi: expected a string, boolean or integer, got an array"),
                Arguments.of("[1]", bad + "json: expected a JSON object, got an array"),
                Arguments.of("", bad + "json: the document is empty (expected a JSON object)"),
                Arguments.of("{\"name\": \"x\"} {\"name\": \"y\"}",
                        bad + "json: unexpected content after the JSON object at line 1, column 15"),
                // MAC addresses: unicast and unique
                Arguments.of("{\"name\": \"x\", \"nics\": [" + nic("aa:00:00:00:00:01") + ", " + nic("AA:00:00:00:00:01")
                        + "]}", bad + "nics[1].mac: aa:00:00:00:00:01 is already used by nics[0]"),
                Arguments.of("{\"name\": \"x\", \"nics\": [" + nic("aa:00:00:00:00:01") + ", " + nic("aa:00:00:00:00:02")
                        + ", " + nic("aa:00:00:00:00:02") + "]}",
                        bad + "nics[2].mac: aa:00:00:00:00:02 is already used by nics[1]"),
                Arguments.of("{\"name\": \"x\", \"nics\": [" + nic("01:00:5e:00:00:01") + "]}", bad + "nics[0].mac:"
                        + " 01:00:5e:00:00:01 is a multicast address; a NIC needs a unicast MAC (lowest bit of the first"
                        + " octet clear)"),
                Arguments.of("{\"name\": \"x\", \"nics\": [" + nic("aa:00:00:00:00:01") + ", " + nic("FF:FF:FF:FF:FF:FF")
                        + "]}", bad + "nics[1].mac: ff:ff:ff:ff:ff:ff is a multicast address; a NIC needs a unicast MAC"
                        + " (lowest bit of the first octet clear)"),
                Arguments.of("{\"name\": \"x\", \"nics\": [" + nic("33:33:00:00:00:01") + "]}", bad + "nics[0].mac:"
                        + " 33:33:00:00:00:01 is a multicast address; a NIC needs a unicast MAC (lowest bit of the first"
                        + " octet clear)"),
                // control characters, with the field's path
                Arguments.of("{\"name\": \"x\\u0000y\"}", bad + "name: contains a control character (U+0000 at offset 1)"),
                Arguments.of("{\"name\": \"x\", \"primary_node\": \"node\\nevil\"}",
                        bad + "primary_node: contains a control character (U+000A at offset 4)"),
                Arguments.of("{\"name\": \"x\", \"hypervisor\": \"kvm\\u001b[2J\"}",
                        bad + "hypervisor: contains a control character (U+001B at offset 3)"),
                Arguments.of("{\"name\": \"x\", \"uuid\": \"\\u007f\"}",
                        bad + "uuid: contains a control character (U+007F at offset 0)"),
                Arguments.of("{\"name\": \"x\", \"tags\": [\"ok\", \"a\\tb\"]}",
                        bad + "tags[1]: contains a control character (U+0009 at offset 1)"),
                Arguments.of("{\"name\": \"x\", \"nics\": [{\"mac\": \"aa:00:00:00:00:01\", \"ip\": \"192.0.2.1\\r\"}]}",
                        bad + "nics[0].ip: contains a control character (U+000D at offset 9)"),
                Arguments.of("{\"name\": \"x\", \"nics\": [{\"mac\": \"aa:00:00:00:00:01\", \"nicparams\": {\"link\":"
                        + " \"br0\\u001f\"}}]}", bad + "nics[0].nicparams.link: contains a control character"
                        + " (U+001F at offset 3)"),
                Arguments.of("{\"name\": \"x\", \"disks\": [{\"dev_path\": \"/dev/x\\u0000\"}]}",
                        bad + "disks[0].dev_path: contains a control character (U+0000 at offset 6)"),
                // disk paths: absolute and normalized
                Arguments.of("{\"name\": \"x\", \"disks\": [{\"dev_path\": \"dev/x\"}]}",
                        bad + "disks[0].dev_path: 'dev/x'" + devPathRule),
                Arguments.of("{\"name\": \"x\", \"disks\": [{\"dev_path\": \"/dev/x\"}, {\"dev_path\": \"/dev/../etc/shadow\"}]}",
                        bad + "disks[1].dev_path: '/dev/../etc/shadow'" + devPathRule),
                Arguments.of("{\"name\": \"x\", \"disks\": [{\"dev_path\": \"/dev/./x\"}]}",
                        bad + "disks[0].dev_path: '/dev/./x'" + devPathRule),
                Arguments.of("{\"name\": \"x\", \"disks\": [{\"dev_path\": \"//dev/x\"}]}",
                        bad + "disks[0].dev_path: '//dev/x'" + devPathRule),
                Arguments.of("{\"name\": \"x\", \"disks\": [{\"dev_path\": \"/dev/x/\"}]}",
                        bad + "disks[0].dev_path: '/dev/x/'" + devPathRule),
                // long values are quoted truncated
                Arguments.of("{\"name\": \"x\", \"disk_template\": \"" + "t".repeat(100) + "\"}",
                        bad + "disk_template: unknown disk template '" + "t".repeat(64) + "'... (100 characters)"
                        + " (allowed: diskless, file, sharedfile, plain, drbd, rbd, blockdev, ext, gluster)"));
    }

    @ParameterizedTest
    @MethodSource("invalidDocuments")
    void invalidDocumentsAreRefusedInBothModes(String json, String message) {
        assertEquals(message, error(json));
        ParameterException lenient = assertThrows(ParameterException.class,
                () -> InstanceJson.read(json, w -> { }, true));
        assertEquals(message, lenient.getMessage());
    }

    /** Unknown fields: strict refuses with the path and a suggestion; lenient warns the same. */
    static Stream<Arguments> unknownFields() {
        String mac = "\"mac\": \"aa:00:00:00:00:01\"";
        return Stream.of(
                Arguments.of("{\"name\": \"x\", \"os\": \"debian\"}", "os", ""),
                Arguments.of("{\"name\": \"x\", \"primary_nod\": \"a\"}", "primary_nod", " (did you mean 'primary_node'?)"),
                Arguments.of("{\"name\": \"x\", \"Name\": \"a\"}", "Name", " (did you mean 'name'?)"),
                Arguments.of("{\"name\": \"x\", \"beparams\": {\"memroy\": 256}}", "beparams.memroy",
                        " (did you mean 'memory'?)"),
                Arguments.of("{\"name\": \"x\", \"beparams\": {\"cpus\": 2}}", "beparams.cpus", " (did you mean 'vcpus'?)"),
                Arguments.of("{\"name\": \"x\", \"nics\": [{" + mac + ", \"nicparms\": {}}]}", "nics[0].nicparms",
                        " (did you mean 'nicparams'?)"),
                Arguments.of("{\"name\": \"x\", \"nics\": [{" + mac + ", \"nicparams\": {\"lnk\": \"br0\"}}]}",
                        "nics[0].nicparams.lnk", " (did you mean 'link'?)"),
                Arguments.of("{\"name\": \"x\", \"disks\": [{\"dev_path\": \"/a\"}, {\"dev_pth\": \"/b\", \"dev_path\": \"/b\"}]}",
                        "disks[1].dev_pth", " (did you mean 'dev_path'?)"),
                Arguments.of("{\"name\": \"x\", \"disks\": [{\"dev_path\": \"/a\", \"readonly\": true}]}",
                        "disks[0].readonly", ""),
                Arguments.of("{\"name\": \"x\", \"a\\u0000b\": 1}", "a\\u0000b", ""),
                Arguments.of("{\"name\": \"x\", \"" + "k".repeat(5000) + "\": 1}", "k".repeat(64) + "...", ""));
    }

    @ParameterizedTest
    @MethodSource("unknownFields")
    void unknownFieldsAreErrorsUnlessLenient(String json, String path, String hint) throws ParameterException {
        ParameterException e = assertThrows(ParameterException.class, () -> InstanceJson.read(json));
        assertEquals("Invalid instance definition: " + path + ": unknown field" + hint, e.getMessage());
        assertEquals(path, e.parameter());
        List<String> warnings = new ArrayList<>();
        assertEquals("x", InstanceJson.read(json, warnings::add, true).name());
        assertEquals(List.of("Ignoring unknown instance field '" + path + "'" + hint), warnings);
    }

    @Test
    void fromTreeIsLenientForRuntimeState() throws Exception {
        var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"name\": \"x\", \"future\": 1}");
        List<String> warnings = new ArrayList<>();
        assertEquals("x", InstanceJson.fromTree(tree, warnings::add).name());
        assertEquals(List.of("Ignoring unknown instance field 'future'"), warnings);
        ParameterException e = assertThrows(ParameterException.class, () -> InstanceJson.fromTree(tree, w -> { }, false));
        assertEquals("Invalid instance definition: future: unknown field", e.getMessage());
    }

    @Test
    void duplicateKeysAreMalformed() {
        assertEquals("Invalid instance definition: malformed JSON at line 1, column 21: Duplicate field 'name'",
                error("{\"name\": \"x\", \"name\": \"../y\"}"));
        assertEquals("Invalid instance definition: malformed JSON at line 1, column 49: Duplicate field 'memory'",
                error("{\"name\": \"x\", \"beparams\": {\"memory\": 1, \"memory\": 2}}"));
    }

    @Test
    void malformedJsonGivesPosition() {
        String msg = error("{\"name\": \"x\",\n  \"nics\": [}");
        assertTrue(msg.startsWith("Invalid instance definition: malformed JSON at line 2, column"), msg);
        assertFalse(msg.contains("Source:"), "Jackson's source reference is reduced to a position: " + msg);
        assertTrue(msg.endsWith("(for Array starting at line 2, column 11)"), msg);
    }

    /** A valid document of exactly {@code length} characters (the padding is a tag). */
    static String documentOf(int length) {
        String head = "{\"name\": \"x\", \"tags\": [\"";
        String tail = "\"]}";
        return head + "t".repeat(length - head.length() - tail.length()) + tail;
    }

    @Test
    void documentSizeIsLimited() throws ParameterException {
        assertEquals(1 << 20, InstanceJson.MAX_BYTES);
        assertEquals("x", InstanceJson.read(documentOf(InstanceJson.MAX_BYTES)).name(), "the limit itself is allowed");
        ParameterException e = assertThrows(ParameterException.class,
                () -> InstanceJson.read(documentOf(InstanceJson.MAX_BYTES + 1), w -> { }, true));
        assertEquals("Invalid instance definition: json: the document is too large: 1048577 characters"
                + " (the limit is 1048576)", e.getMessage());
        assertEquals("json", e.parameter());
    }
}
