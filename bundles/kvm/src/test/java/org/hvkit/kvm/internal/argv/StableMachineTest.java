package org.hvkit.kvm.internal.argv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.kvm.internal.caps.HelpFixtures;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.caps.QmpFacts;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.junit.jupiter.api.Test;

/** The machine a guest sees stays the same across a reboot and a migration (Ganeti 3.0's pinned machine version). */
class StableMachineTest {

    private static final KvmArgvBuilder BUILDER = new KvmArgvBuilder(GoldenArgvTest.KVM, GoldenArgvTest.PATHS);

    /** QEMU 7.2's --help with what it would say over QMP, its default machine being {@code defaultMachine}. */
    private static QemuCapabilities probed(String defaultMachine) {
        QemuCapabilities help = HelpFixtures.capabilities("qemu-7.2.22");
        return help.withQmp(new QmpFacts(7, 2, 22, "test", Set.of("query-status"),
                Map.of("pc", defaultMachine, defaultMachine, defaultMachine), defaultMachine, Set.of("virtio-net-pci"),
                Map.of("netdev", Set.of(), "device", Set.of(), "machine", Set.of(), "accel", Set.of(), "rtc", Set.of(),
                        "mon", Set.of(), "object", Set.of(), "chardev", Set.of("logfile"),
                        "drive", Set.of("auto-read-only", "aio", "discard"), "smp-opts", Set.of("cores")), false));
    }

    private static Map<String, Object> defaults() {
        return new LinkedHashMap<>(KvmParameters.DEFAULTS);
    }

    private static Instance instance(String uuid) {
        return Instance.builder(Scenario.INSTANCE).primaryNode("node-a").uuid(uuid).build();
    }

    private static int machineAt(List<String> argv, String type) {
        for (int i = 0; i + 1 < argv.size(); i++) {
            if (argv.get(i).equals("-machine") && argv.get(i + 1).equals(type)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void theDefaultMachineIsPinnedAtStartAndKeptWhereQemuDefaultsToANewerOne() throws HypervisorException {
        KvmArgvBuilder.Generated first = BUILDER.generate(instance(""), defaults(), probed("pc-i440fx-7.2"));
        assertTrue(machineAt(first.runtime().argv(), "pc-i440fx-7.2") > 0, first.runtime().argv().toString());
        assertEquals("pc-i440fx-7.2", first.runtime().hvparams().get(KvmParameters.MACHINE_VERSION),
                "the saved runtime names the machine");
        // a migration target (or a reboot) renders from the saved parameters, whatever its own QEMU's default
        KvmArgvBuilder.Generated target = BUILDER.generate(instance(""),
                new LinkedHashMap<>(first.runtime().hvparams()), probed("pc-i440fx-9.1"));
        assertTrue(machineAt(target.runtime().argv(), "pc-i440fx-7.2") > 0, target.runtime().argv().toString());
        assertEquals(-1, machineAt(target.runtime().argv(), "pc-i440fx-9.1"));
    }

    @Test
    void anExplicitMachineVersionWinsAndWithoutQmpNothingIsPinned() throws HypervisorException {
        Map<String, Object> hv = defaults();
        hv.put(KvmParameters.MACHINE_VERSION, "pc-q35-7.2");
        List<String> argv = BUILDER.generate(instance(""), hv, probed("pc-i440fx-7.2")).runtime().argv();
        assertTrue(machineAt(argv, "pc-q35-7.2") > 0 && machineAt(argv, "pc-i440fx-7.2") < 0, argv.toString());
        KvmArgvBuilder.Generated help = BUILDER.generate(instance(""), defaults(),
                HelpFixtures.capabilities("qemu-7.2.22"));
        assertEquals("", help.runtime().hvparams().get(KvmParameters.MACHINE_VERSION),
                "--help alone does not say which machine is the default: QEMU's applies, as before");
        assertFalse(String.join(" ", help.runtime().argv()).contains("pc-i440fx"));
    }

    @Test
    void theInstanceUuidIsTheGuestsSystemUuid() throws HypervisorException {
        String uuid = "2d9f6b7e-3c1a-4e8b-9a5f-0c7d1e2f3a4b";
        List<String> argv = BUILDER.generate(instance(uuid), defaults(), probed("pc-i440fx-7.2")).runtime().argv();
        int at = argv.indexOf("-uuid");
        assertTrue(at > 0 && argv.get(at + 1).equals(uuid), argv.toString());
        assertFalse(BUILDER.generate(instance(""), defaults(), probed("pc-i440fx-7.2")).runtime().argv()
                .contains("-uuid"), "no uuid, no -uuid");
        assertFalse(BUILDER.generate(instance(uuid), defaults(), HelpFixtures.capabilities("kvm-0.9.1")).runtime()
                .argv().contains("-uuid"), "a binary without -uuid");
        for (String bad : List.of("not-a-uuid", uuid + ",x=y", uuid.replace('2', 'g'), "\u0007" + uuid)) {
            HypervisorException e = assertThrows(HypervisorException.class,
                    () -> BUILDER.generate(instance(bad), defaults(), probed("pc-i440fx-7.2")));
            assertTrue(e.getMessage().contains("uuid must be a UUID (8-4-4-4-12 hexadecimal digits)")
                    && !e.getMessage().contains("\u0007"), e.getMessage());
        }
    }
}
