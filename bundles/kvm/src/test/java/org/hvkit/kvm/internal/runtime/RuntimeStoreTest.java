package org.hvkit.kvm.internal.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.hvkit.hypervisor.BackendParams;
import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.kvm.internal.argv.KvmRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Runtime files: hvkit's own round trip, Ganeti's and older hvkit's files, hostile ones. */
class RuntimeStoreTest {

    private static final String SRC = "/run/hvkit/kvm-hypervisor/conf/inst1.example.com.runtime";
    private static final String CTRL = "/var/run/ganeti/kvm-hypervisor/ctrl/inst1.example.com";
    private static final Nic BRIDGED = new Nic("aa:00:00:35:d2:11", null, NicMode.BRIDGED, "br0");
    private static final Nic ROUTED = new Nic("aa:00:00:35:d2:12", "192.0.2.10", NicMode.ROUTED, "100");

    /** The command of a QEMU started without the control sockets (what remains after stripping them). */
    private static final List<String> BARE = List.of("/usr/bin/kvm", "-name", "inst1.example.com", "-m", "128",
            "-smp", "1", "-pidfile", "/var/run/ganeti/kvm-hypervisor/pid/inst1.example.com", "-daemonize",
            "-boot", "c", "-drive", "file=/var/run/ganeti/instance-disks/inst1.example.com:0,format=raw,if=virtio",
            "-usb", "-usbdevice", "tablet", "-vnc", "127.0.0.1:5");

    static Instance instance() {
        return Instance.builder("inst1.example.com").primaryNode("node-a").hypervisor("kvm")
                .hvparams(Map.of("kernel_path", "", "acpi", false, "migration_port", 8102L))
                .beparams(new BackendParams(256, 2)).nic(BRIDGED).nic(ROUTED)
                .disk(new Disk("/srv/disks/a,b.img", DiskMode.RW, 1024)).disk(new Disk("/dev/drbd1", DiskMode.RO, 0))
                .diskTemplate("drbd").networkPort(5905).tags(List.of("web", "ünïcode")).uuid("7e4e5f4c-1")
                .build();
    }

    static Map<String, Object> hvparams() {
        Map<String, Object> hv = new LinkedHashMap<>();
        hv.put("kernel_path", "");
        hv.put("acpi", true);
        hv.put("migration_port", 8102L);
        hv.put("vnc_bind_address", "127.0.0.1");
        hv.put("cpu_mask", null);
        return hv;
    }

    /** {@code BARE} with Ganeti's control sockets where Ganeti put them. */
    static List<String> ganetiCommand(String serial) {
        List<String> cmd = new ArrayList<>(BARE.subList(0, 10));
        cmd.addAll(List.of("-monitor", "unix:" + CTRL + ".monitor,server,nowait", "-serial", serial));
        cmd.addAll(BARE.subList(10, BARE.size()));
        cmd.addAll(List.of("-qmp", "unix:" + CTRL + ".qmp,server,nowait", "-qmp", "unix:" + CTRL + ".kvmd,server,nowait"));
        return cmd;
    }

    static String json(List<String> command) {
        return "[" + String.join(", ", command.stream().map(s -> "\"" + s + "\"").toList()) + "]";
    }

    /** A Ganeti NIC as {@code objects.NIC.ToDict()} writes it. */
    static final String GANETI_NICS = "[{\"mac\": \"aa:00:00:35:d2:11\", \"ip\": null, \"nicparams\": {\"mode\":"
            + " \"bridged\", \"link\": \"br0\", \"vlan\": \"\"}, \"uuid\": \"5f1c\", \"name\": null, \"network\": null},"
            + " {\"mac\": \"aa:00:00:35:d2:12\", \"ip\": \"192.0.2.10\", \"nicparams\": {\"mode\": \"routed\","
            + " \"link\": \"100\"}}]";
    static final String GANETI_HV = "{\"kernel_path\": \"\", \"acpi\": true, \"migration_port\": 8102,"
            + " \"vnc_bind_address\": \"127.0.0.1\", \"cpu_mask\": null}";

    @Test
    void serializeThenParseGivesTheSameRuntimeAndInstance() throws Exception {
        List<String> argv = new ArrayList<>(BARE);
        // a format-2 command is taken as it stands, even what would be a control socket in format 1
        argv.addAll(List.of("-chardev", "socket,id=serial0,fd=6,server=on,wait=off", "-serial", "chardev:serial0",
                "-append", "ro console=ttyS0 \"quoted\" ünïcode"));
        KvmRuntime runtime = new KvmRuntime(argv, List.of(BRIDGED, ROUTED), hvparams());

        String text = RuntimeStore.serialize(runtime, instance());
        RuntimeStore.Saved saved = RuntimeStore.parse(text, SRC);

        assertEquals(runtime, saved.runtime());
        assertEquals(Optional.of(instance()), saved.instance());
        assertEquals(text, saved.text());
        assertEquals(text, RuntimeStore.serialize(saved.runtime(), saved.instance().get()), "a fixed point");
    }

    @Test
    void saveThenLoadThroughTheRuntimeDirectory(@TempDir Path tmp) throws Exception {
        RuntimeStore store = new RuntimeStore(new RuntimePaths(tmp.resolve("kvm")));
        store.ensureDirectories();
        KvmRuntime runtime = new KvmRuntime(BARE, List.of(BRIDGED), hvparams());
        assertEquals(Optional.empty(), store.load("inst1.example.com"));
        store.save("inst1.example.com", runtime, instance());
        RuntimeStore.Saved saved = store.load("inst1.example.com").orElseThrow();
        assertEquals(runtime, saved.runtime());
        assertEquals(Optional.of(instance()), saved.instance());
        assertEquals(List.of("inst1.example.com"), store.knownNames());
    }

    @ParameterizedTest(name = "serial {0}")
    @CsvSource({"'unix:" + CTRL + ".serial,server,nowait'", "none"})
    void aGanetiFileWithThreeElementsLoadsWithoutItsControlSockets(String serial) throws Exception {
        String text = "[" + json(ganetiCommand(serial)) + ", " + GANETI_NICS + ", " + GANETI_HV + "]";

        RuntimeStore.Saved saved = RuntimeStore.parse(text, SRC);

        List<String> expected = new ArrayList<>(BARE);
        if (serial.equals("none")) {
            expected.addAll(10, List.of("-serial", "none"));
        }
        assertEquals(expected, saved.runtime().argv());
        assertEquals(List.of(BRIDGED, ROUTED), saved.runtime().nics());
        assertEquals(hvparams(), saved.runtime().hvparams());
        assertEquals(Optional.empty(), saved.instance(), "Ganeti's file has no instance");
    }

    @Test
    void aGanetiThreeFileWithDisksAndMoreLoadsWithoutItsControlSockets() throws Exception {
        // Ganeti 2.12+ appends [disks, vcpus, memory]: a fourth element that is not hvkit's
        String disks = "[[{\"dev_type\": \"plain\", \"size\": 1024, \"iv_name\": \"disk/0\"},"
                + " \"/var/run/ganeti/instance-disks/inst1.example.com:0\", null]]";
        String text = "[" + json(ganetiCommand("unix:" + CTRL + ".serial,server,nowait")) + ", " + GANETI_NICS + ", "
                + GANETI_HV + ", " + disks + ", [], []]";

        RuntimeStore.Saved saved = RuntimeStore.parse(text, SRC);

        assertEquals(BARE, saved.runtime().argv());
        assertEquals(List.of(BRIDGED, ROUTED), saved.runtime().nics());
        assertEquals(Optional.empty(), saved.instance());
    }

    @Test
    void aFormatOneHvkitFileIsStrippedAndKeepsItsInstance() throws Exception {
        String ctrl = "/run/hvkit/kvm-hypervisor/ctrl/inst1.example.com";
        List<String> v1 = new ArrayList<>(BARE);
        v1.addAll(List.of("-monitor", "unix:" + ctrl + ".monitor,server=on,wait=off",
                "-qmp", "unix:" + ctrl + ".qmp,server=on,wait=off",
                "-chardev", "socket,id=serial0,path=" + ctrl + ".serial,server=on,wait=off,logfile=" + ctrl
                        + ".serial.log", "-serial", "chardev:serial0"));
        String v2 = RuntimeStore.serialize(new KvmRuntime(v1, List.of(BRIDGED), hvparams()), instance());
        String text = v2.replace("\"version\" : 2", "\"version\" : 1");
        assertEquals(1, count(text, "\"version\" : 1"), "the fixture is a format-1 file");

        RuntimeStore.Saved saved = RuntimeStore.parse(text, SRC);

        assertEquals(BARE, saved.runtime().argv());
        assertEquals(Optional.of(instance()), saved.instance());
        assertEquals(v1, RuntimeStore.parse(v2, SRC).runtime().argv(), "format 2: the command as saved");
    }

    private static int count(String s, String what) {
        return s.split(java.util.regex.Pattern.quote(what), -1).length - 1;
    }

    @Test
    void withoutControlSocketsKeepsEverythingElse() {
        assertEquals(List.of("-serial", "none", "-chardev", "socket,id=vnc0,path=/x", "-qmpx", "y", "-serial", "file:/s"),
                RuntimeStore.withoutControlSockets(List.of("-serial", "none", "-chardev", "socket,id=vnc0,path=/x",
                        "-qmpx", "y", "-qmp", "unix:/q", "-serial", "file:/s", "-monitor", "unix:/m")));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "not an array        | {\"a\": 1}                            | expected [command, nics, hvparams, ...]",
        "empty               | ``                                    | expected [command, nics, hvparams, ...]",
        "two elements        | [[], []]                              | expected [command, nics, hvparams, ...]",
        "command not a list  | [\"/usr/bin/kvm\", [], {}]            | expected [command, nics, hvparams, ...]",
        "nics not a list     | [[], {}, {}]                          | expected [command, nics, hvparams, ...]",
        "hvparams not a dict | [[], [], []]                          | expected [command, nics, hvparams, ...]",
        "number in command   | [[\"/usr/bin/kvm\", \"-m\", 128], [], {}] | the command holds a non-string element 128",
        "null in command     | [[\"/usr/bin/kvm\", null], [], {}]    | the command holds a non-string element null",
        "object in command   | [[{\"a\": [1]}], [], {}]              | the command holds a non-string element {\"a\":[1]}",
        "bad MAC             | [[], [{\"mac\": \"zz\"}], {}]         | Invalid instance definition: nics[0].mac: 'zz' is not a"
                + " valid MAC address (expected six colon-separated hex pairs, e.g. aa:00:00:12:34:56)",
        "multicast MAC       | [[], [{\"mac\": \"01:00:5e:00:00:01\"}], {}] | Invalid instance definition: nics[0].mac:"
                + " 01:00:5e:00:00:01 is a multicast address; a NIC needs a unicast MAC (lowest bit of the first octet"
                + " clear)",
        "unknown NIC mode    | [[], [{\"mac\": \"aa:00:00:00:00:01\", \"nicparams\": {\"mode\": \"bogus\"}}], {}]"
                + " | Invalid instance definition: nics[0].nicparams.mode: unknown NIC mode 'bogus' (allowed: bridged,"
                + " routed)",
        "NIC not an object   | [[], [\"aa:00:00:00:00:01\"], {}]     | Invalid instance definition: nics[0]: expected an"
                + " object {mac, ip, nicparams}, got string 'aa:00:00:00:00:01'",
        "bad instance        | [[], [], {}, {\"hvkit\": {\"version\": 2, \"instance\": {\"name\": \"../x\"}}}]"
                + " | Invalid instance definition: name: '../x' is not a valid instance name (1-63 characters: letters, digits,"
                + " '.', '_', '-', starting with a letter or digit; every label between dots is non-empty and starts"
                + " with a letter or digit)",
        "truncated           | [[\"/usr/bin/kvm\"                    | Unexpected end-of-input: expected close marker for"
                + " Array (start marker at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION`"
                + " disabled); line: 1, column: 2]) at line 1, column 17",
    })
    void aHostileFileIsRefusedWithOneLine(String what, String text, String reason) {
        HypervisorException e = assertThrows(HypervisorException.class, () -> RuntimeStore.parse(text, SRC));
        assertEquals("Failed to load KVM runtime file " + SRC + ": " + reason, e.getMessage());
    }
}
