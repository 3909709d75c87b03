package org.hvkit.kvm.internal.caps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;

/** QMP's answers about a binary are hostile input: shapes, names and sizes are checked. */
class QmpFactsTest {

    private static final ObjectMapper M = new ObjectMapper();

    private static JsonNode j(String json) throws Exception {
        return M.readTree(json);
    }

    private static QmpFacts facts(String options) throws Exception {
        return QmpFacts.from(j("{\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 22}, \"package\": \"Debian 1:7.2\"}"),
                j("[{\"name\": \"migrate\"}, {\"name\": \"device_add\"}]"),
                j("[{\"name\": \"pc-i440fx-7.2\", \"alias\": \"pc\", \"is-default\": true},"
                        + " {\"name\": \"pc-q35-7.2\", \"alias\": \"q35\"}, {\"name\": \"none\"}]"),
                j("[{\"name\": \"virtio-net-pci\"}, {\"name\": \"e1000\"}]"),
                j(options), j("{\"enabled\": false, \"present\": true}"));
    }

    @Test
    void readsTheFiveAnswersAndRoundTripsThroughTheCacheForm() throws Exception {
        QmpFacts f = facts("[{\"option\": \"\", \"parameters\": []},"
                + " {\"option\": \"drive\", \"parameters\": [{\"name\": \"aio\"}, {\"name\": \"auto-read-only\"}]},"
                + " {\"option\": \"netdev\", \"parameters\": []}]");
        assertEquals("pc-i440fx-7.2", f.defaultMachine());
        assertEquals("pc-q35-7.2", f.machines().get("q35"));
        assertTrue(f.hasOption("netdev") && !f.hasOption("no-acpi") && !f.hasOption(""));
        assertTrue(f.hasOptionParameter("drive", "auto-read-only") && !f.hasOptionParameter("drive", "boot"));
        assertTrue(f.devices().contains("virtio-net-pci") && f.commands().contains("device_add") && f.kvmPresent());
        assertEquals(f, QmpFacts.fromTree(M.readTree(M.writeValueAsString(f.toTree()))));
    }

    @Test
    void theAioModesAreTheOneEnumWithThreadsAndNative() throws Exception {
        // the schema masks type names; other enums' odd names are not looked at
        JsonNode schema = j("[{\"name\": \"1\", \"meta-type\": \"enum\", \"values\": [\"a b\", \"\\u0007\"]},"
                + " {\"name\": \"523\", \"meta-type\": \"enum\", \"members\": [{\"name\": \"threads\"},"
                + " {\"name\": \"native\"}, {\"name\": \"io_uring\"}], \"values\": [\"threads\", \"native\", \"io_uring\"]},"
                + " {\"name\": \"9\", \"meta-type\": \"object\", \"members\": [{\"name\": \"threads\"}]}]");
        assertEquals(Set.of("threads", "native", "io_uring"), QmpFacts.aioModes(schema));
        // "members" only (no deprecated "values"): read from there
        assertEquals(Set.of("threads", "native"), QmpFacts.aioModes(j("[{\"meta-type\": \"enum\", \"members\":"
                + " [{\"name\": \"threads\"}, {\"name\": \"native\"}]}]")));
        // none, or two candidates: not known
        assertEquals(Set.of(), QmpFacts.aioModes(j("[]")));
        assertEquals(Set.of(), QmpFacts.aioModes(j("[{\"meta-type\": \"enum\", \"values\": [\"threads\", \"native\"]},"
                + " {\"meta-type\": \"enum\", \"values\": [\"native\", \"threads\", \"x\"]}]")));
        // the enum taken is hostile input like the rest
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QmpFacts.aioModes(
                j("[{\"meta-type\": \"enum\", \"values\": [\"threads\", \"native\", \"$(reboot)\"]}]")));
        assertTrue(e.getMessage().contains("query-qmp-schema aio modes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> QmpFacts.aioModes(j("{}")));
        // and it survives the cache form; facts from before it was asked have none
        QmpFacts f = facts("[]").withAioModes(Set.of("threads", "native"));
        assertEquals(f, QmpFacts.fromTree(M.readTree(M.writeValueAsString(f.toTree()))));
        assertEquals(Set.of(), facts("[]").aioModes());
    }

    @Test
    void qmpDecidesWhatItCanTellAndHelpTheRest() throws Exception {
        QmpFacts f = facts("[{\"option\": \"drive\", \"parameters\": [{\"name\": \"auto-read-only\"}]}]");
        // --help claimed -netdev and -device; QMP lists neither: QMP wins. -no-acpi is a flag: --help decides
        QemuCapabilities help = new QemuCapabilities("6.0.0", 6, 0, 0,
                EnumSet.of(QemuFeature.NETDEV, QemuFeature.DEVICE, QemuFeature.NO_ACPI));
        QemuCapabilities both = help.withQmp(f);
        assertEquals(Set.of(QemuFeature.AUTO_READ_ONLY, QemuFeature.NO_ACPI), both.features());
        assertEquals(7, both.major());
        assertEquals(22, both.micro());
        assertEquals(f, both.qmp());
    }

    @Test
    void hostileAnswersAreRefusedNamingTheQuery() throws Exception {
        String[][] cases = {
            {"{\"option\": \"drive\", \"parameters\": \"all\"}", "query-command-line-options drive: expected a list"},
            {"{\"option\": \"dri\\nve\", \"parameters\": []}", "not a QEMU name"},
            {"{\"option\": \"" + "x".repeat(200) + "\", \"parameters\": []}", "not a QEMU name"},
            {"{\"option\": \"drive\", \"parameters\": [{\"name\": 7}]}", "expected a name"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> facts("[" + c[0] + "]"));
            assertTrue(e.getMessage().contains(c[1]), c[0] + " → " + e.getMessage());
            assertTrue(e.getMessage().length() < 300, "no unbounded echo: " + e.getMessage().length());
        }
        StringBuilder many = new StringBuilder("[");
        for (int i = 0; i <= QmpFacts.MAX_NAMES; i++) {
            many.append(i == 0 ? "" : ",").append("{\"name\": \"d").append(i).append("\"}");
        }
        IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class, () -> QmpFacts.from(
                j("{\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 0}}"), j("[]"), j("[]"), j(many + "]"), j("[]"),
                j("{}")));
        assertTrue(tooMany.getMessage().contains("more than " + QmpFacts.MAX_NAMES), tooMany.getMessage());
        IllegalArgumentException version = assertThrows(IllegalArgumentException.class, () -> QmpFacts.from(
                j("{\"qemu\": {\"major\": \"seven\", \"minor\": 2, \"micro\": 0}}"), j("[]"), j("[]"), j("[]"), j("[]"),
                j("{}")));
        assertTrue(version.getMessage().contains("major is not a version number"), version.getMessage());
    }

    @Test
    void theCacheFormIsCheckedToo() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> QmpFacts.fromTree(j("{\"major\": 7, \"minor\": 2,"
                + " \"micro\": 0, \"commands\": [\"ok\", \"bad name\"], \"devices\": []}")));
        assertThrows(IllegalArgumentException.class, () -> QmpFacts.fromTree(j("{\"major\": 7, \"minor\": 2,"
                + " \"micro\": 0, \"commands\": [], \"devices\": [], \"defaultMachine\": \"../x\"}")));
        QmpFacts odd = QmpFacts.fromTree(j("{\"major\": 7, \"minor\": 2, \"micro\": 0, \"commands\": [],"
                + " \"devices\": [], \"package\": \"a\\u0000b\\u001bc\"}"));
        assertEquals("abc", odd.packageText(), "control characters never reach a log line");
        assertFalse(odd.kvmPresent());
    }
}
