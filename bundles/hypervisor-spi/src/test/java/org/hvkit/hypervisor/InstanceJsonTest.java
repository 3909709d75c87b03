package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

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

    @Test
    void readsGanetiShape() throws ParameterException {
        List<String> warnings = new ArrayList<>();
        Instance i = InstanceJson.read(FULL, warnings::add);
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
    void roundTrip() throws ParameterException {
        Instance i = InstanceJson.read(FULL, w -> { });
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

    private static String error(String json) {
        return assertThrows(ParameterException.class, () -> InstanceJson.read(json, w -> { })).getMessage();
    }

    @Test
    void errorsNameTheField() {
        assertEquals("Invalid instance definition: name: is missing (required)", error("{}"));
        assertEquals("Invalid instance definition: name: '../etc' is not a valid instance name (1-63 characters:"
                + " letters, digits, '.', '_', '-', starting with a letter or digit)", error("{\"name\": \"../etc\"}"));
        assertEquals("Invalid instance definition: beparams.memory: expected an integer, got string '1G'",
                error("{\"name\": \"x\", \"beparams\": {\"memory\": \"1G\"}}"));
        assertEquals("Invalid instance definition: nics[1].mac: 'zz:00:00:00:00:00' is not a valid MAC address"
                + " (expected six colon-separated hex pairs, e.g. aa:00:00:12:34:56)",
                error("{\"name\": \"x\", \"nics\": [{\"mac\": \"aa:00:00:00:00:01\"}, {\"mac\": \"zz:00:00:00:00:00\"}]}"));
        assertEquals("Invalid instance definition: nics[0].nicparams.mode: unknown NIC mode 'openflow'"
                + " (allowed: bridged, routed)",
                error("{\"name\": \"x\", \"nics\": [{\"mac\": \"aa:00:00:00:00:01\", \"nicparams\": {\"mode\": \"openflow\"}}]}"));
        assertEquals("Invalid instance definition: disks[0].mode: unknown disk mode 'rx' (allowed: rw, ro)",
                error("{\"name\": \"x\", \"disks\": [{\"dev_path\": \"/dev/x\", \"mode\": \"rx\"}]}"));
        assertEquals("Invalid instance definition: disk_template: unknown disk template 'lvm' (allowed: diskless,"
                + " file, sharedfile, plain, drbd, rbd, blockdev, ext, gluster)",
                error("{\"name\": \"x\", \"disk_template\": \"lvm\"}"));
        assertEquals("Invalid instance definition: network_port: 70000 is out of range (allowed: 0..65535, 0 = none)",
                error("{\"name\": \"x\", \"network_port\": 70000}"));
        assertEquals("Invalid instance definition: hvparams.acpi: expected a string, boolean or integer, got an array",
                error("{\"name\": \"x\", \"hvparams\": {\"acpi\": []}}"));
        assertEquals("Invalid instance definition: json: expected a JSON object, got an array", error("[1]"));
    }

    @Test
    void malformedJsonGivesPosition() {
        String msg = error("{\"name\": \"x\",\n  \"nics\": [}");
        assertTrue(msg.startsWith("Invalid instance definition: malformed JSON at line 2, column"), msg);
        assertFalse(msg.contains("Source:"), "Jackson's source reference is reduced to a position: " + msg);
        assertTrue(msg.endsWith("(for Array starting at line 2, column 11)"), msg);
    }
}
