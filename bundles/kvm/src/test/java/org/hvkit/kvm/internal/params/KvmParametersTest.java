package org.hvkit.kvm.internal.params;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.hvkit.hypervisor.ParameterException;
import org.hvkit.hypervisor.ParameterSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KvmParametersTest {

    /** The defaults with {@code kv} (name, value, …) overlaid. */
    static Map<String, Object> hv(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>(KvmParameters.DEFAULTS);
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private static String syntaxError(Object... kv) {
        return assertThrows(ParameterException.class, () -> KvmParameters.checkSyntax(hv(kv))).getMessage();
    }

    @Test
    void catalogueHasGanetis65ParametersAndADefaultForEach() {
        assertEquals(65, KvmParameters.PARAMETERS.size(), "Ganeti 2.4's 28 and the 37 Ganeti 3.0 added");
        assertEquals(KvmParameters.PARAMETERS.keySet(), KvmParameters.DEFAULTS.keySet(),
                "TestParameters: defaults and PARAMETERS have the same keys");
        assertEquals(List.of("migration_port", "migration_bandwidth", "migration_mode"),
                KvmParameters.PARAMETERS.values().stream().filter(ParameterSpec::global).map(ParameterSpec::name).toList());
    }

    @Test
    void defaultsPass() throws ParameterException {
        KvmParameters.checkSyntax(hv());
    }

    @Test
    void genericChecks() {
        assertEquals("Parameter 'cpu_pinning' is not supported", syntaxError("cpu_pinning", "0-1"));
        Map<String, Object> missing = hv();
        missing.remove("acpi");
        assertEquals("Parameter 'acpi' is missing",
                assertThrows(ParameterException.class, () -> KvmParameters.checkSyntax(missing)).getMessage());
        assertEquals("Parameter 'boot_order' is required but is currently not defined", syntaxError("boot_order", ""));
        assertEquals("Parameter 'nic_type' fails syntax check: The value must be one of: rtl8139, ne2k_pci, ne2k_isa,"
                + " i82551, i82557b, i82559er, pcnet, e1000, paravirtual (current value: 'virtio')",
                syntaxError("nic_type", "virtio"));
        assertEquals("Parameter 'kernel_path' fails syntax check: must be an absolute normalized path (current value:"
                + " 'vmlinuz')", syntaxError("kernel_path", "vmlinuz"));
        assertEquals("Parameter 'migration_port' is required but is currently not defined",
                syntaxError("migration_port", 0L), "port 0 is falsy, so the required check fires first");
        assertEquals("Parameter 'migration_port' fails syntax check: invalid port number (current value: '65536')",
                syntaxError("migration_port", 65536L));
        assertEquals("Parameter 'usb_mouse' fails syntax check: The value must be one of: mouse, tablet (current value:"
                + " 'trackball')", syntaxError("usb_mouse", "trackball"));
        assertEquals("Parameter 'migration_mode' fails syntax check: invalid migration mode (current value: 'fast')",
                syntaxError("migration_mode", "fast"));
    }

    @Test
    void vncBindAddress() throws ParameterException {
        KvmParameters.checkSyntax(hv("vnc_bind_address", "192.0.2.1"));
        KvmParameters.checkSyntax(hv("vnc_bind_address", "0.0.0.0"));
        KvmParameters.checkSyntax(hv("vnc_bind_address", "/run/vnc"));
        String text = "the VNC bind address must be either a valid IP address or an absolute pathname";
        assertEquals("Parameter 'vnc_bind_address' fails syntax check: " + text + " (current value: '2001:db8::1')",
                syntaxError("vnc_bind_address", "2001:db8::1"));
        assertTrue(syntaxError("vnc_bind_address", "300.1.1.1").contains(text));
        assertTrue(syntaxError("vnc_bind_address", "run/vnc").contains(text));
    }

    @Test
    void crossParameterRules() throws ParameterException {
        assertEquals("Need a root partition for the instance, if a kernel is defined",
                syntaxError("kernel_path", "/boot/vmlinuz", "root_path", ""));
        assertEquals("vnc_x509_path must be defined, if vnc_x509_verify is", syntaxError("vnc_x509_verify", true));
        assertEquals("Cannot boot from cdrom without an ISO path", syntaxError("boot_order", "cdrom"));
        assertEquals("A security domain (user to run kvm as) must be specified", syntaxError("security_model", "user"));
        assertEquals("Cannot have a security domain when the security model is 'none' or 'pool'",
                syntaxError("security_domain", "nobody"));
        assertEquals("Cannot have a security domain when the security model is 'none' or 'pool'",
                syntaxError("security_model", "pool", "security_domain", "nobody"));
        KvmParameters.checkSyntax(hv("security_model", "user", "security_domain", "nobody"));
        KvmParameters.checkSyntax(hv("security_model", "pool"));
        KvmParameters.checkSyntax(hv("boot_order", "cdrom", "cdrom_image_path", "/srv/x.iso"));
    }

    @Test
    void nodeValidation(@TempDir Path tmp) throws Exception {
        KvmParameters.Node node = new KvmParameters.Node(u -> u.equals("nobody"), tmp.resolve("vhost-net"),
                i -> i.equals("lo"));
        Path kernel = Files.createFile(tmp.resolve("vmlinuz"));
        KvmParameters.validate(hv("kernel_path", kernel.toString(), "mem_path", tmp.toString()), node);
        assertEquals("Parameter 'kernel_path' fails validation: not found or not a file (current value: '"
                + tmp.resolve("nope") + "')", assertThrows(ParameterException.class,
                () -> KvmParameters.validate(hv("kernel_path", tmp.resolve("nope").toString()), node)).getMessage());
        assertEquals("Parameter 'mem_path' fails validation: not found or not a directory (current value: '" + kernel
                + "')", assertThrows(ParameterException.class,
                () -> KvmParameters.validate(hv("mem_path", kernel.toString()), node)).getMessage());
        assertEquals("Unknown security domain user ghost", assertThrows(ParameterException.class,
                () -> KvmParameters.validate(hv("security_model", "user", "security_domain", "ghost"), node)).getMessage());
        KvmParameters.validate(hv("security_model", "user", "security_domain", "nobody"), node);
        ParameterException vhost = assertThrows(ParameterException.class,
                () -> KvmParameters.validate(hv("vhost_net", true), node));
        assertEquals("vhost_net is enabled but " + tmp.resolve("vhost-net") + " does not exist on this node (load the"
                + " vhost_net module, or set vhost_net to false)", vhost.getMessage());
        KvmParameters.validate(hv("vhost_net", true, "nic_type", "e1000"), node);
        Files.createFile(tmp.resolve("vhost-net"));
        KvmParameters.validate(hv("vhost_net", true), node);
    }

    @Test
    void assessmentWarnsWithoutRejecting() {
        assertEquals(List.of(), KvmParameters.assess(hv()));
        List<String> w = KvmParameters.assess(hv("vhost_net", true, "nic_type", "e1000", "kernel_path", "/boot/k",
                "boot_order", "network", "use_chroot", true, "migration_bandwidth", 0L, "acpi", false,
                "vnc_bind_address", "192.0.2.1"));
        assertEquals(6, w.size(), w.toString());
        assertTrue(w.get(0).startsWith("vhost_net has no effect with nic_type e1000"));
    }
}
