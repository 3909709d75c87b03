package org.hvkit.kvm.internal.argv;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.hypervisor.ParameterChecks;
import org.hvkit.hypervisor.ParameterException;
import org.hvkit.kvm.internal.params.KvmParameters;

/**
 * One argv scenario: an instance, its hvparams (file paths as {@code @PLACEHOLDERS@}, filled
 * in by the golden test with fixed paths and by the launch test with real temporary files)
 * and what the executing node adds.
 */
record Scenario(String name, Instance instance, Map<String, Object> hvparams, String poolUser, String incoming,
                boolean startPaused) {

    static final String INSTANCE = "inst1.example.com";

    /** The instance: 128 MiB, 1 VCPU, one plain disk, one bridged NIC, unless changed. */
    static Instance.Builder base() {
        return Instance.builder(INSTANCE).primaryNode("node-a").memory(128).vcpus(1).diskTemplate("plain")
                .networkPort(0)
                .disk(new Disk("@DISK0@", DiskMode.RW, 1024))
                .nic(new Nic("aa:00:00:35:d2:11", null, NicMode.BRIDGED, "br0"));
    }

    static Scenario of(String name, Instance.Builder instance, Object... hv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < hv.length; i += 2) {
            m.put((String) hv[i], hv[i + 1]);
        }
        return new Scenario(name, instance.build(), m, null, null, false);
    }

    Scenario pool(String user) {
        return new Scenario(name, instance, hvparams, user, incoming, startPaused);
    }

    Scenario incoming(String address) {
        return new Scenario(name, instance, hvparams, poolUser, address, startPaused);
    }

    Scenario paused() {
        return new Scenario(name, instance, hvparams, poolUser, incoming, true);
    }

    /** The filled hvparams with placeholders replaced. */
    Map<String, Object> filledHvparams(UnaryOperator<String> places) throws ParameterException {
        Map<String, Object> own = new LinkedHashMap<>();
        hvparams.forEach((k, v) -> own.put(k, v instanceof String ? places.apply((String) v) : v));
        return new LinkedHashMap<>(ParameterChecks.fill(KvmParameters.PARAMETERS, KvmParameters.DEFAULTS, own));
    }

    /** The instance with disk paths replaced. */
    Instance resolvedInstance(UnaryOperator<String> places) {
        List<Disk> disks = new ArrayList<>();
        for (Disk d : instance.disks()) {
            disks.add(new Disk(places.apply(d.devPath()), d.mode(), d.sizeMiB()));
        }
        return instance.toBuilder().disks(disks).build();
    }

    static List<Scenario> all() {
        Nic routed = new Nic("aa:00:00:35:d2:12", "192.0.2.10", NicMode.ROUTED, "100");
        Nic bridged2 = new Nic("aa:00:00:35:d2:13", null, NicMode.BRIDGED, "br1");
        String kernel = "@KERNEL@";
        return List.of(
            of("defaults", base()),
            of("kernel-initrd-serial", base(), "kernel_path", kernel, "initrd_path", "@INITRD@",
                    "kernel_args", "ro panic=-1"),
            of("kernel-no-serial", base(), "kernel_path", kernel, "serial_console", false, "kernel_args", ""),
            of("cdrom-boot-paravirtual", base(), "boot_order", "cdrom", "cdrom_image_path", "@ISO@"),
            of("cdrom-boot-ide", base(), "boot_order", "cdrom", "cdrom_image_path", "@ISO@", "disk_type", "ide"),
            of("cdrom-second-device", base(), "cdrom_image_path", "@ISO@"),
            of("cdrom-second-device-scsi", base(), "cdrom_image_path", "@ISO@", "disk_type", "scsi"),
            of("network-boot", base(), "boot_order", "network"),
            of("diskless-no-nics", base().disks(List.of()).nics(List.of()).diskTemplate("diskless")),
            of("two-disks-ide", base().disk(new Disk("@DISK1@", DiskMode.RW, 512)), "disk_type", "ide"),
            of("cache-writeback-plain", base(), "disk_cache", "writeback"),
            of("cache-writeback-drbd", base().diskTemplate("drbd"), "disk_cache", "writeback"),
            of("cache-writethrough-sharedfile", base().diskTemplate("sharedfile"), "disk_cache", "writethrough"),
            of("cache-none-blockdev", base().diskTemplate("blockdev"), "disk_cache", "none"),
            of("cache-default-ext", base().diskTemplate("ext")),
            of("cache-writeback-rbd", base().diskTemplate("rbd"), "disk_cache", "writeback"),
            of("vnc-ip", base().networkPort(5910), "vnc_bind_address", "127.0.0.1"),
            of("vnc-all-addresses", base().networkPort(5911), "vnc_bind_address", "0.0.0.0"),
            of("vnc-unix-socket", base(), "vnc_bind_address", "@VNCDIR@"),
            of("vnc-tls-x509-verify-password", base().networkPort(5912), "vnc_bind_address", "127.0.0.1",
                    "vnc_tls", true, "vnc_x509_path", "@X509@", "vnc_x509_verify", true,
                    "vnc_password_file", "@PWFILE@"),
            of("vnc-tls-anonymous", base().networkPort(5913), "vnc_bind_address", "127.0.0.1", "vnc_tls", true),
            of("vnc-bad-port", base().networkPort(5800), "vnc_bind_address", "127.0.0.1", "vnc_tls", true,
                    "vnc_password_file", "@PWFILE@"),
            of("usb-mouse", base(), "usb_mouse", "mouse"),
            of("usb-tablet", base(), "usb_mouse", "tablet"),
            of("security-user", base(), "security_model", "user", "security_domain", "nobody"),
            of("security-pool", base(), "security_model", "pool").pool("nobody"),
            of("chroot", base(), "use_chroot", true),
            of("chroot-pool", base(), "use_chroot", true, "security_model", "pool").pool("nobody"),
            of("mem-path", base(), "mem_path", "@MEMDIR@"),
            of("localtime", base(), "use_localtime", true),
            of("kvm-enabled", base(), "kvm_flag", "enabled"),
            of("kvm-disabled", base(), "kvm_flag", "disabled"),
            of("acpi-off", base(), "acpi", false),
            of("three-nics-bridged-and-routed", base().nic(routed).nic(bridged2)),
            of("e1000-nics", base().nic(routed), "nic_type", "e1000"),
            of("vhost-net", base(), "vhost_net", true),
            of("incoming-migration", base(), "migration_port", 8102L).incoming("127.0.0.1"),
            of("start-paused", base()).paused(),
            // every path-like value with a comma (an option injection if it went in unescaped)
            of("commas-in-paths", base().disk(new Disk("@CDISK@", DiskMode.RW, 1)), "cdrom_image_path", "@CISO@",
                    "vnc_bind_address", "@CVNCDIR@", "vnc_password_file", "@PWFILE@", "kernel_path", "@CKERNEL@",
                    "initrd_path", "@CINITRD@", "mem_path", "@CMEMDIR@"),
            of("commas-vnc-x509", base().networkPort(5914), "vnc_bind_address", "127.0.0.1", "vnc_tls", true,
                    "vnc_x509_path", "@CX509@"),
            of("vnc-unix-password", base(), "vnc_bind_address", "@VNCDIR@", "vnc_password_file", "@PWFILE@")
        );
    }
}
