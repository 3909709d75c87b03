package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.FaultBench.expectError;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

/**
 * Every KVM parameter with a wrong value, through {@code startInstance}: the start is refused
 * with Ganeti's text naming the parameter and what would be valid, before anything is created.
 */
final class ParameterFaults {

    private ParameterFaults() {
    }

    private static final String PARAVIRTUAL_NICS = "rtl8139, ne2k_pci, ne2k_isa, i82551, i82557b, i82559er, pcnet,"
            + " e1000, paravirtual";

    static List<FaultCase> all() {
        List<FaultCase> out = new ArrayList<>();
        bad(out, "P1", "kernel_path", "/nonexistent/vmlinuz",
                "Parameter 'kernel_path' fails validation: not found or not a file (current value: '/nonexistent/vmlinuz')");
        bad(out, "P2", "initrd_path", "relative/initrd", "Parameter 'initrd_path' fails syntax check: must be an"
                + " absolute normalized path (current value: 'relative/initrd')");
        bad(out, "P3", "root_path", 7, "Parameter 'root_path' must be of type string (current value: 7, a number)");
        bad(out, "P4", "kernel_args", true,
                "Parameter 'kernel_args' must be of type string (current value: true, a boolean)");
        bad(out, "P5", "acpi", "yes", "Parameter 'acpi' must be of type bool (current value: 'yes', a string)");
        bad(out, "P6", "serial_console", 1, "Parameter 'serial_console' must be of type bool (current value: 1,"
                + " a number)");
        bad(out, "P7", "vnc_bind_address", "my-host", "Parameter 'vnc_bind_address' fails syntax check: the VNC bind"
                + " address must be either a valid IP address or an absolute pathname (current value: 'my-host')");
        bad(out, "P8", "vnc_tls", "no", "Parameter 'vnc_tls' must be of type bool (current value: 'no', a string)");
        bad(out, "P9", "vnc_x509_path", "/nonexistent/x509", "Parameter 'vnc_x509_path' fails validation: not found"
                + " or not a directory (current value: '/nonexistent/x509')");
        bad(out, "P10", "vnc_x509_verify", true, "vnc_x509_path must be defined, if vnc_x509_verify is");
        bad(out, "P11", "vnc_password_file", "/nonexistent/password", "Parameter 'vnc_password_file' fails"
                + " validation: not found or not a file (current value: '/nonexistent/password')");
        bad(out, "P12", "cdrom_image_path", "/dev/null", "Parameter 'cdrom_image_path' fails validation: not found or"
                + " not a file (current value: '/dev/null')");
        bad(out, "P13", "boot_order", "floppy", "Parameter 'boot_order' fails syntax check: The value must be one of:"
                + " cdrom, disk, network (current value: 'floppy')");
        bad(out, "P14", "nic_type", "virtio", "Parameter 'nic_type' fails syntax check: The value must be one of: "
                + PARAVIRTUAL_NICS + " (current value: 'virtio')");
        bad(out, "P15", "disk_type", "nvme", "Parameter 'disk_type' fails syntax check: The value must be one of:"
                + " paravirtual, ide, scsi, sd, mtd, pflash (current value: 'nvme')");
        bad(out, "P16", "usb_mouse", "trackball", "Parameter 'usb_mouse' fails syntax check: The value must be one"
                + " of: mouse, tablet (current value: 'trackball')");
        bad(out, "P17", "migration_port", 70000L, "Parameter 'migration_port' fails syntax check: invalid port number"
                + " (current value: '70000')");
        bad(out, "P18", "migration_bandwidth", "fast", "Parameter 'migration_bandwidth' must be of type int (current"
                + " value: 'fast', a string)");
        bad(out, "P19", "migration_downtime", 1.5, "Parameter 'migration_downtime' must be of type int (current"
                + " value: 1.5, a number)");
        bad(out, "P20", "migration_mode", "offline", "Parameter 'migration_mode' fails syntax check: invalid migration"
                + " mode (current value: 'offline')");
        bad(out, "P21", "use_localtime", "true", "Parameter 'use_localtime' must be of type bool (current value:"
                + " 'true', a string)");
        bad(out, "P22", "disk_cache", "unsafe", "Parameter 'disk_cache' fails syntax check: The value must be one of:"
                + " default, none, writethrough, writeback (current value: 'unsafe')");
        bad(out, "P23", "security_model", "root", "Parameter 'security_model' fails syntax check: The value must be"
                + " one of: none, user, pool (current value: 'root')");
        bad(out, "P24", "security_domain", "nobody",
                "Cannot have a security domain when the security model is 'none' or 'pool'");
        bad(out, "P25", "kvm_flag", "on", "Parameter 'kvm_flag' fails syntax check: The value must be one of:"
                + " enabled, disabled (current value: 'on')");
        bad(out, "P26", "vhost_net", true, "vhost_net is enabled but /dev/vhost-net does not exist on this node (load"
                + " the vhost_net module, or set vhost_net to false)");
        bad(out, "P27", "use_chroot", "yes", "Parameter 'use_chroot' must be of type bool (current value: 'yes', a"
                + " string)");
        bad(out, "P28", "mem_path", "/nonexistent/hugepages", "Parameter 'mem_path' fails validation: not found or not"
                + " a directory (current value: '/nonexistent/hugepages')");
        bad(out, "P29", "kernel_pat", "/boot/vmlinuz",
                "Parameter 'kernel_pat' is not supported (did you mean 'kernel_path'?)");
        out.add(FaultCase.of("P30", "parameters", "security_model user without a security_domain", b ->
            expectError("A security domain (user to run kvm as) must be specified", () -> b.node.startInstance(
                    b.guest(b.name()).hvparam("security_model", "user").build(), true))));
        out.add(FaultCase.of("P31", "parameters", "boot from cdrom without an ISO", b ->
            expectError("Cannot boot from cdrom without an ISO path", () -> b.node.startInstance(
                    b.guest(b.name()).hvparam("kernel_path", "").hvparam("boot_order", "cdrom").build(), true))));
        out.add(FaultCase.of("P32", "parameters", "a kernel without a root partition", b ->
            expectError("Need a root partition for the instance, if a kernel is defined", () -> b.node.startInstance(
                    b.guest(b.name()).hvparam("root_path", "").build(), true))));
        out.add(FaultCase.of("P33", "parameters", "security_model pool on a node without a uid pool", b -> {
            KvmHypervisor hv = b.node(KvmTestNode.settings("node-nopool", b.tmp.resolve("nopool"), KvmTestNode.QEMU,
                    false, null));
            b.defer(() -> FileFaults.deleteTree(b.tmp.resolve("nopool")));
            b.defer(hv::close);
            KvmTestNode.pool(hv, null);
            String name = b.name();
            expectError("Failed to start instance " + name + ": security_model is pool but no uid pool is configured"
                    + " (etc/org.hvkit.uidpool.cfg)", () -> hv.startInstance(KvmTestNode.guest(name, null, null)
                    .memory(64).hvparam("security_model", "pool").build(), true));
        }));
        out.add(FaultCase.of("P34", "parameters", "an instance uuid that is no UUID (commas, control characters)", b -> {
            for (String uuid : List.of("x,id=evil", "2d9f6b7e-3c1a-4e8b-9a5f-0c7d1e2f3a4b\u0007", "../../etc")) {
                String name = b.name();
                String msg = FaultBench.error(() -> b.node.startInstance(b.guest(name).uuid(uuid).build(), true));
                assertTrue(msg.contains("uuid must be a UUID (8-4-4-4-12 hexadecimal digits)") && !msg.contains("\u0007"),
                        msg);
            }
        }));
        return out;
    }

    private static void bad(List<FaultCase> out, String id, String parameter, Object value, String expected) {
        out.add(FaultCase.of(id, "parameters", parameter + " = " + value, b ->
            expectError(expected, () -> b.node.startInstance(b.guest(b.name()).hvparam(parameter, value).build(),
                    true))));
    }
}
