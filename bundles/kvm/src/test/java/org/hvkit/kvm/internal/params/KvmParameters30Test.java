package org.hvkit.kvm.internal.params;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.hvkit.hypervisor.ParameterException;
import org.hvkit.hypervisor.ParameterSpec;
import org.hvkit.hypervisor.ParameterType;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The 37 parameters Ganeti 3.0 added: one table row per bad value, each its own dynamic test,
 * asserting that the message carries Ganeti's text, names the parameter and (for value sets)
 * lists the allowed values.
 */
class KvmParameters30Test {

    /** Ganeti 3.0's names, types and defaults (hvcDefaults in src/Ganeti/Constants.hs; kvm_path: hvkit's). */
    private static final Map<String, Object> GANETI_30_DEFAULTS = new LinkedHashMap<>();

    static {
        Object[] d = {"kvm_path", "", "serial_speed", 38400L, "spice_bind", "", "spice_ip_version", 0L,
            "spice_password_file", "", "spice_image_compression", "", "spice_jpeg_wan_compression", "",
            "spice_zlib_glz_wan_compression", "", "spice_streaming_video", "", "spice_playback_compression", true,
            "spice_use_tls", false, "spice_tls_ciphers", "HIGH:-DES:-3DES:-EXPORT:-DH", "spice_use_vdagent", true,
            "floppy_image_path", "", "cdrom2_image_path", "", "scsi_controller_type", "lsi",
            "disk_discard", "default", "cdrom_disk_type", "", "keymap", "", "use_guest_agent", false,
            "disk_aio", "threads", "virtio_net_queues", 1L, "user_shutdown", false, "reboot_behavior", "reboot",
            "cpu_mask", "all", "cpu_type", "", "cpu_cores", 0L, "cpu_threads", 0L, "cpu_sockets", 0L, "soundhw", "",
            "usb_devices", "", "vga", "", "kvm_extra", "", "machine_version", "", "migration_caps", "",
            "kvm_pci_reservations", 12L, "vnet_hdr", true};
        for (int i = 0; i < d.length; i += 2) {
            GANETI_30_DEFAULTS.put((String) d[i], d[i + 1]);
        }
    }

    /** One bad value and what its message must contain. */
    private record Bad(String parameter, Object value, String... expected) {
        Bad {
            if (expected.length == 0) {
                throw new IllegalArgumentException("a case must expect some text");
            }
        }
    }

    private static final String SYNTAX = "fails syntax check: ";

    private static List<Bad> table() {
        String lossy = "The value must be one of: always, auto, never";
        return List.of(
                new Bad("kvm_path", "bin/kvm", SYNTAX + "must be an absolute normalized path"),
                new Bad("serial_speed", 12345L, "Invalid serial console speed, must be one of: 75, 110, 300",
                        "38400", "460800", "(serial_speed is 12345)"),
                new Bad("spice_bind", "0.0.0.0,port=1", SYNTAX + "must be an IP address or a network interface name"),
                new Bad("spice_ip_version", 5L, SYNTAX + "The SPICE IP version should be 4 or 6"),
                new Bad("spice_password_file", "pw", SYNTAX + "must be an absolute normalized path"),
                new Bad("spice_image_compression", "zip",
                        SYNTAX + "The value must be one of: auto_glz, auto_lz, glz, lz, off, quic"),
                new Bad("spice_jpeg_wan_compression", "sometimes", SYNTAX + lossy),
                new Bad("spice_zlib_glz_wan_compression", "maybe", SYNTAX + lossy),
                new Bad("spice_streaming_video", "some", SYNTAX + "The value must be one of: all, filter, off"),
                new Bad("spice_playback_compression", "yes", "must be of type bool"),
                new Bad("spice_use_tls", 1L, "must be of type bool"),
                new Bad("spice_tls_ciphers", "HIGH\n", "contains a control character"),
                new Bad("spice_use_vdagent", "on", "must be of type bool"),
                new Bad("floppy_image_path", "../fd.img", SYNTAX + "must be an absolute normalized path"),
                new Bad("cdrom2_image_path", "file:///srv/a.iso",
                        SYNTAX + "must be an absolute normalized path or a URL"),
                new Bad("scsi_controller_type", "buslogic",
                        SYNTAX + "The value must be one of: lsi, virtio-scsi-pci, megasas"),
                new Bad("disk_discard", "trim", SYNTAX + "The value must be one of: default, ignore, unmap"),
                new Bad("cdrom_disk_type", "virtio", SYNTAX + "The value must be one of: ide, mtd, paravirtual,"
                        + " pflash, scsi, sd, scsi-generic, scsi-block, scsi-hd, scsi-cd"),
                new Bad("keymap", "../../../etc/shadow", SYNTAX + "must be a keyboard layout name"),
                new Bad("use_guest_agent", "true", "must be of type bool"),
                new Bad("disk_aio", "posix", SYNTAX + "The value must be one of: threads, native, io_uring"),
                new Bad("virtio_net_queues", 9L, SYNTAX + "invalid number of queues"),
                new Bad("user_shutdown", 1L, "must be of type bool"),
                new Bad("reboot_behavior", "halt", SYNTAX + "The value must be one of: reboot, exit"),
                new Bad("cpu_mask", "0-2-3", SYNTAX + "Multiple CPU mask definition is not well-formed"),
                new Bad("cpu_type", "host,model=qemu64,,x", SYNTAX + "must be a QEMU CPU model"),
                new Bad("cpu_cores", -1L, SYNTAX + "cannot be negative"),
                new Bad("cpu_threads", -2L, SYNTAX + "cannot be negative"),
                new Bad("cpu_sockets", -3L, SYNTAX + "cannot be negative"),
                new Bad("soundhw", "ac97,audiodev=x", SYNTAX + "must be a QEMU sound card model"),
                new Bad("usb_devices", "disk:/etc/shadow", SYNTAX + "must be a comma-separated list of at most 16 USB"
                        + " device names"),
                new Bad("vga", "std -device x", SYNTAX + "must be a QEMU VGA card type"),
                new Bad("kvm_extra", "-S\r-no-acpi", "contains a control character"),
                new Bad("machine_version", "pc,accel=tcg", SYNTAX + "must be a QEMU machine type name"),
                new Bad("migration_caps", "xbzrle,postcopy-ram", SYNTAX + "must be a colon-separated list of QEMU"
                        + " migration capability names"),
                new Bad("kvm_pci_reservations", 33L, SYNTAX + "The number of PCI slots managed by QEMU (max: 32)"),
                new Bad("vnet_hdr", "no", "must be of type bool"));
    }

    private static Map<String, Object> hv(Object... kv) {
        return KvmParametersTest.hv(kv);
    }

    private static ParameterException syntaxError(Object... kv) {
        return assertThrows(ParameterException.class, () -> KvmParameters.checkSyntax(hv(kv)));
    }

    @Test
    void theLaterParametersHaveGaneti30sNamesTypesDefaultsAndScope() {
        List<String> names = new ArrayList<>(KvmParameters.PARAMETERS.keySet());
        assertEquals(new ArrayList<>(GANETI_30_DEFAULTS.keySet()), names.subList(28, names.size()),
                "appended in the order of Ganeti 3.0's PARAMETERS dict");
        for (Map.Entry<String, Object> e : GANETI_30_DEFAULTS.entrySet()) {
            ParameterSpec spec = KvmParameters.PARAMETERS.get(e.getKey());
            assertEquals(e.getValue(), spec.defaultValue(), e.getKey());
            assertTrue(spec.type().accepts(e.getValue()), e.getKey());
            assertTrue(!spec.global(), e.getKey() + " is not in Ganeti 3.0's hvcGlobals");
            assertTrue(!spec.description().isBlank(), e.getKey());
        }
        assertEquals(ParameterType.INT, KvmParameters.PARAMETERS.get("spice_ip_version").type());
    }

    @TestFactory
    Stream<DynamicTest> everyLaterParameterRefusesABadValueNamingItself() {
        Set<String> covered = new TreeSet<>();
        List<DynamicTest> tests = new ArrayList<>();
        for (Bad bad : table()) {
            covered.add(bad.parameter());
            String shown = String.valueOf(bad.value()).replaceAll("\\p{Cntrl}", "?");
            tests.add(DynamicTest.dynamicTest(bad.parameter() + " = " + shown, () -> {
                ParameterException e = syntaxError(bad.parameter(), bad.value());
                assertEquals(bad.parameter(), e.parameter());
                assertTrue(e.getMessage().contains(bad.parameter()), e.getMessage());
                for (String text : bad.expected()) {
                    assertTrue(e.getMessage().contains(text), "'" + e.getMessage() + "' lacks '" + text + "'");
                }
            }));
        }
        assertEquals(GANETI_30_DEFAULTS.keySet(), covered, "one row per later parameter");
        return tests.stream();
    }

    @Test
    void goodValuesPass() throws ParameterException {
        KvmParameters.checkSyntax(hv("cpu_type", "Haswell,-hle,+x2apic,vmx=on", "machine_version", "pc-i440fx-7.2",
                "usb_devices", "tablet,keyboard", "migration_caps", "xbzrle:auto-converge", "cpu_mask", "0-2,5:all:3",
                "cpu_cores", 2L, "cpu_sockets", 1L, "serial_speed", 115200L, "cdrom2_image_path",
                "https://example.com/a.iso", "kvm_pci_reservations", 0L, "disk_aio", "native", "disk_cache", "none",
                "spice_bind", "2001:db8::1", "spice_ip_version", 6L, "spice_image_compression", "auto_glz"));
        KvmParameters.checkSyntax(hv("serial_console", false, "serial_speed", 7L));
    }

    @Test
    void spiceRules() throws ParameterException {
        for (String p : Ganeti30Rules.SPICE_DEPENDENT) {
            Object v = KvmParameters.PARAMETERS.get(p).type() == ParameterType.BOOL ? (Object) true
                    : KvmParameters.PARAMETERS.get(p).type() == ParameterType.INT ? (Object) 4L
                    : p.equals("spice_password_file") ? "/etc/spice-pw" : p.equals("spice_streaming_video") ? "all"
                    : p.equals("spice_image_compression") ? "lz" : "auto";
            ParameterException e = syntaxError(p, v);
            assertEquals("SPICE: " + p + " requires spice_bind to be set", e.getMessage());
            assertEquals(p, e.parameter());
        }
        assertEquals("SPICE: Got an IPv4 address (192.0.2.1), but the specified IP version is 6",
                syntaxError("spice_bind", "192.0.2.1", "spice_ip_version", 6L).getMessage());
        assertEquals("SPICE: Got an IPv6 address (2001:db8::1), but the specified IP version is 4",
                syntaxError("spice_bind", "2001:db8::1", "spice_ip_version", 4L).getMessage());
        KvmParameters.checkSyntax(hv("spice_bind", "eth0", "spice_ip_version", 4L));
        KvmParameters.checkSyntax(hv("spice_bind", "192.0.2.1"));
    }

    @Test
    void diskAioNativeNeedsCacheNone() {
        ParameterException e = syntaxError("disk_aio", "native");
        assertEquals("When 'disk_aio' is set to 'native', the only supported value for 'disk_cache' is 'none'.",
                e.getMessage());
        assertEquals("disk_aio", e.parameter());
    }

    @Test
    void nodeValidation(@TempDir Path tmp) throws Exception {
        KvmParameters.Node node = new KvmParameters.Node(u -> false, tmp.resolve("vhost-net"), i -> i.equals("eth0"));
        Path notExecutable = Files.createFile(tmp.resolve("kvm"));
        assertEquals("Parameter 'kvm_path' fails validation: not found or not an executable file (current value: '"
                + notExecutable + "')", assertThrows(ParameterException.class,
                () -> KvmParameters.validate(hv("kvm_path", notExecutable.toString()), node)).getMessage());
        assertTrue(notExecutable.toFile().setExecutable(true));
        KvmParameters.validate(hv("kvm_path", notExecutable.toString()), node);
        assertEquals("Parameter 'cdrom2_image_path' fails validation: not found or not a file or URL (current value: '"
                + tmp.resolve("a.iso") + "')", assertThrows(ParameterException.class,
                () -> KvmParameters.validate(hv("cdrom2_image_path", tmp.resolve("a.iso").toString()), node))
                .getMessage());
        KvmParameters.validate(hv("cdrom2_image_path", "http://example.com/a.iso"), node);
        assertEquals("Both SPICE and VNC are configured, but only one of them can be used at a given time",
                assertThrows(ParameterException.class, () -> KvmParameters.validate(hv("spice_bind", "192.0.2.1",
                        "vnc_bind_address", "192.0.2.1"), node)).getMessage());
        assertEquals("SPICE: The spice_bind parameter must be either a valid IP address or interface name",
                assertThrows(ParameterException.class, () -> KvmParameters.validate(hv("spice_bind", "eth9"), node))
                        .getMessage());
        KvmParameters.validate(hv("spice_bind", "eth0"), node);
        KvmParameters.validate(hv("spice_bind", "::1"), node);
    }

    @Test
    void kvmExtraSplitsAtWhitespaceWithoutAShell() {
        assertEquals(List.of("-device", "pci-testdev", "$(reboot)", "'a", "b'"),
                KvmParameters.kvmExtra(hv("kvm_extra", "  -device\tpci-testdev  $(reboot) 'a b' ")));
        assertEquals(List.of(), KvmParameters.kvmExtra(hv()));
        List<String> w = KvmParameters.assess(hv("kvm_extra", "-device pci-testdev", "kvm_pci_reservations", 2L));
        assertEquals(List.of("kvm_extra passes 2 raw argument(s) to QEMU that hvkit neither checks nor escapes:"
                + " -device pci-testdev", "kvm_pci_reservations 2 leaves QEMU fewer than 3 PCI slots: its host bridge,"
                + " ISA bridge and VGA card (slots 0-2) collide with the slots hvkit gives disks, NICs and the balloon,"
                + " and QEMU refuses the start"), w);
        assertEquals(List.of(), KvmParameters.assess(hv("kvm_pci_reservations", 16L)), "more reserved slots are fine");
    }
}
