package org.hvkit.kvm.internal.params;

import static org.hvkit.hypervisor.ParameterType.BOOL;
import static org.hvkit.hypervisor.ParameterType.INT;
import static org.hvkit.hypervisor.ParameterType.STRING;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import org.hvkit.hypervisor.ParameterCheck;
import org.hvkit.hypervisor.ParameterChecks;
import org.hvkit.hypervisor.ParameterException;
import org.hvkit.hypervisor.ParameterSpec;

/**
 * Ganeti's 28 KVM parameters of 2011 ({@code KVMHypervisor.PARAMETERS}, {@code HVC_DEFAULTS} in
 * {@code lib/constants.py}; docs/parameters.md) and the 37 Ganeti added up to 3.0
 * ({@link Ganeti30Parameters}, {@link Ganeti30Rules}) with their types, defaults and descriptors,
 * the cross-parameter rules (Ganeti's {@code CheckParameterSyntax}, its texts), node-side
 * validation and the assessment warnings that hvkit adds for combinations Ganeti never checked
 * (docs/ganeti-behaviour.md, "Parameter check texts").
 */
public final class KvmParameters {

    public static final String KERNEL_PATH = "kernel_path";
    public static final String INITRD_PATH = "initrd_path";
    public static final String ROOT_PATH = "root_path";
    public static final String KERNEL_ARGS = "kernel_args";
    public static final String ACPI = "acpi";
    public static final String SERIAL_CONSOLE = "serial_console";
    public static final String VNC_BIND_ADDRESS = "vnc_bind_address";
    public static final String VNC_TLS = "vnc_tls";
    public static final String VNC_X509_PATH = "vnc_x509_path";
    public static final String VNC_X509_VERIFY = "vnc_x509_verify";
    public static final String VNC_PASSWORD_FILE = "vnc_password_file";
    public static final String CDROM_IMAGE_PATH = "cdrom_image_path";
    public static final String BOOT_ORDER = "boot_order";
    public static final String NIC_TYPE = "nic_type";
    public static final String DISK_TYPE = "disk_type";
    public static final String USB_MOUSE = "usb_mouse";
    public static final String MIGRATION_PORT = "migration_port";
    public static final String MIGRATION_BANDWIDTH = "migration_bandwidth";
    public static final String MIGRATION_DOWNTIME = "migration_downtime";
    public static final String MIGRATION_MODE = "migration_mode";
    public static final String USE_LOCALTIME = "use_localtime";
    public static final String DISK_CACHE = "disk_cache";
    public static final String SECURITY_MODEL = "security_model";
    public static final String SECURITY_DOMAIN = "security_domain";
    public static final String KVM_FLAG = "kvm_flag";
    public static final String VHOST_NET = "vhost_net";
    public static final String USE_CHROOT = "use_chroot";
    public static final String MEM_PATH = "mem_path";

    // Ganeti 3.0's later parameters (hvsParameterTypes in src/Ganeti/Constants.hs)
    public static final String KVM_PATH = "kvm_path";
    public static final String SERIAL_SPEED = "serial_speed";
    public static final String SPICE_BIND = "spice_bind";
    public static final String SPICE_IP_VERSION = "spice_ip_version";
    public static final String SPICE_PASSWORD_FILE = "spice_password_file";
    public static final String SPICE_IMAGE_COMPRESSION = "spice_image_compression";
    public static final String SPICE_JPEG_WAN_COMPRESSION = "spice_jpeg_wan_compression";
    public static final String SPICE_ZLIB_GLZ_WAN_COMPRESSION = "spice_zlib_glz_wan_compression";
    public static final String SPICE_STREAMING_VIDEO = "spice_streaming_video";
    public static final String SPICE_PLAYBACK_COMPRESSION = "spice_playback_compression";
    public static final String SPICE_USE_TLS = "spice_use_tls";
    public static final String SPICE_TLS_CIPHERS = "spice_tls_ciphers";
    public static final String SPICE_USE_VDAGENT = "spice_use_vdagent";
    public static final String FLOPPY_IMAGE_PATH = "floppy_image_path";
    public static final String CDROM2_IMAGE_PATH = "cdrom2_image_path";
    public static final String SCSI_CONTROLLER_TYPE = "scsi_controller_type";
    public static final String DISK_DISCARD = "disk_discard";
    public static final String CDROM_DISK_TYPE = "cdrom_disk_type";
    public static final String KEYMAP = "keymap";
    public static final String USE_GUEST_AGENT = "use_guest_agent";
    public static final String DISK_AIO = "disk_aio";
    public static final String VIRTIO_NET_QUEUES = "virtio_net_queues";
    public static final String USER_SHUTDOWN = "user_shutdown";
    public static final String REBOOT_BEHAVIOR = "reboot_behavior";
    public static final String CPU_MASK = "cpu_mask";
    public static final String CPU_TYPE = "cpu_type";
    public static final String CPU_CORES = "cpu_cores";
    public static final String CPU_THREADS = "cpu_threads";
    public static final String CPU_SOCKETS = "cpu_sockets";
    public static final String SOUNDHW = "soundhw";
    public static final String USB_DEVICES = "usb_devices";
    public static final String VGA = "vga";
    public static final String KVM_EXTRA = "kvm_extra";
    public static final String MACHINE_VERSION = "machine_version";
    public static final String MIGRATION_CAPS = "migration_caps";
    public static final String KVM_PCI_RESERVATIONS = "kvm_pci_reservations";
    public static final String VNET_HDR = "vnet_hdr";

    /** The {@code nic_type}/{@code disk_type} value that means virtio. */
    public static final String PARAVIRTUAL = "paravirtual";

    public static final List<String> NIC_TYPES = List.of("rtl8139", "ne2k_pci", "ne2k_isa", "i82551", "i82557b",
            "i82559er", "pcnet", "e1000", PARAVIRTUAL);
    public static final List<String> DISK_TYPES = List.of("paravirtual", "ide", "scsi", "sd", "mtd", "pflash");
    /** Ganeti 3.0's {@code htKvmValidDiskTypes}, which {@code cdrom_disk_type} takes (in Constants.hs' order). */
    public static final List<String> CDROM_DISK_TYPES = List.of("ide", "mtd", "paravirtual", "pflash", "scsi", "sd",
            "scsi-generic", "scsi-block", "scsi-hd", "scsi-cd");
    /** Ganeti 3.0's {@code validSerialSpeeds}. */
    public static final List<Long> SERIAL_SPEEDS = List.of(75L, 110L, 300L, 600L, 1200L, 1800L, 2400L, 4800L, 9600L,
            14400L, 19200L, 28800L, 38400L, 57600L, 115200L, 230400L, 345600L, 460800L);
    /** Ganeti 3.0's {@code htKvmValidScsiControllerTypes}. */
    public static final List<String> SCSI_CONTROLLER_TYPES = List.of("lsi", "virtio-scsi-pci", "megasas");
    /** Ganeti 3.0's {@code qemuPciSlots}. */
    public static final long QEMU_PCI_SLOTS = 32;
    /** Ganeti 3.0's {@code opensslCiphers}, the default of {@code spice_tls_ciphers}. */
    public static final String OPENSSL_CIPHERS = "HIGH:-DES:-3DES:-EXPORT:-DH";

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    /** The catalogue, in Ganeti's order. */
    public static final Map<String, ParameterSpec> PARAMETERS;
    /** The defaults (same keys). */
    public static final Map<String, Object> DEFAULTS;

    static {
        Map<String, ParameterSpec> p = new LinkedHashMap<>();
        // Ganeti 2011's default was /boot/vmlinuz-2.6-kvmU, a path that exists on hardly any node
        // today, so every default start failed validation; hvkit defaults to "boot from disk".
        add(p, ParameterSpec.of(KERNEL_PATH, STRING, "", ParameterCheck.OPT_FILE_CHECK,
                "Kernel to boot directly (-kernel); empty: boot from the disks per boot_order"));
        add(p, ParameterSpec.of(INITRD_PATH, STRING, "", ParameterCheck.OPT_FILE_CHECK,
                "Initial ramdisk (-initrd), only with kernel_path"));
        add(p, ParameterSpec.of(ROOT_PATH, STRING, "/dev/vda1", ParameterCheck.NO_CHECK,
                "root= on the kernel command line (with kernel_path)"));
        add(p, ParameterSpec.of(KERNEL_ARGS, STRING, "ro", ParameterCheck.NO_CHECK,
                "Further kernel command line arguments (with kernel_path)"));
        add(p, ParameterSpec.of(ACPI, BOOL, true, ParameterCheck.NO_CHECK,
                "ACPI on; off adds -no-acpi and makes stop a kill instead of a powerdown request"));
        add(p, ParameterSpec.of(SERIAL_CONSOLE, BOOL, true, ParameterCheck.NO_CHECK,
                "Serial console on a unix socket (and console=ttyS0 with kernel_path)"));
        add(p, ParameterSpec.of(VNC_BIND_ADDRESS, STRING, "", ParameterCheck.NO_CHECK.withSyntax("VNC_BIND_CHECK",
                        KvmParameters::isIpv4OrPath,
                        "the VNC bind address must be either a valid IP address or an absolute pathname"),
                "VNC on this IPv4 address (display = network_port - 5900) or on a unix socket under this directory"));
        add(p, ParameterSpec.of(VNC_TLS, BOOL, false, ParameterCheck.NO_CHECK, "VNC with TLS"));
        add(p, ParameterSpec.of(VNC_X509_PATH, STRING, "", ParameterCheck.OPT_DIR_CHECK,
                "Directory with the VNC TLS certificates"));
        add(p, ParameterSpec.of(VNC_X509_VERIFY, BOOL, false, ParameterCheck.NO_CHECK,
                "Verify VNC clients' certificates"));
        add(p, ParameterSpec.of(VNC_PASSWORD_FILE, STRING, "", ParameterCheck.OPT_FILE_CHECK,
                "File whose single line is the VNC password (set over QMP, never on a command line)"));
        add(p, ParameterSpec.of(CDROM_IMAGE_PATH, STRING, "", ParameterCheck.OPT_FILE_CHECK, "ISO image as a cdrom"));
        add(p, ParameterSpec.of(BOOT_ORDER, STRING, "disk", ParameterCheck.inSet(true, List.of("cdrom", "disk", "network")),
                "Boot device when no kernel_path is given"));
        add(p, ParameterSpec.of(NIC_TYPE, STRING, "paravirtual", ParameterCheck.inSet(true, NIC_TYPES),
                "NIC model; paravirtual = virtio-net-pci"));
        add(p, ParameterSpec.of(DISK_TYPE, STRING, "paravirtual", ParameterCheck.inSet(true, DISK_TYPES),
                "Disk bus; paravirtual = virtio"));
        add(p, ParameterSpec.of(USB_MOUSE, STRING, "", ParameterCheck.inSet(false, List.of("mouse", "tablet")),
                "USB pointing device"));
        add(p, ParameterSpec.global(MIGRATION_PORT, INT, 8102L, ParameterCheck.NET_PORT_CHECK,
                "TCP port a migration target listens on"));
        add(p, ParameterSpec.global(MIGRATION_BANDWIDTH, INT, 32L, ParameterCheck.NO_CHECK,
                "Migration bandwidth limit in MiB/s"));
        add(p, ParameterSpec.of(MIGRATION_DOWNTIME, INT, 30L, ParameterCheck.NO_CHECK,
                "Longest pause at the end of a live migration, in ms"));
        add(p, ParameterSpec.global(MIGRATION_MODE, STRING, "live", ParameterCheck.MIGRATION_MODE_CHECK,
                "Default migration mode: live or non-live"));
        add(p, ParameterSpec.of(USE_LOCALTIME, BOOL, false, ParameterCheck.NO_CHECK,
                "Guest clock in local time instead of UTC"));
        add(p, ParameterSpec.of(DISK_CACHE, STRING, "default", ParameterCheck.inSet(true,
                List.of("default", "none", "writethrough", "writeback")),
                "Host cache mode of the disks (forced to none on shared storage)"));
        add(p, ParameterSpec.of(SECURITY_MODEL, STRING, "none", ParameterCheck.inSet(true, List.of("none", "user", "pool")),
                "Run QEMU as root (none), as security_domain (user), or as a uid of its own from the uid pool (pool)"));
        add(p, ParameterSpec.of(SECURITY_DOMAIN, STRING, "", ParameterCheck.NO_CHECK,
                "User QEMU runs as with security_model=user"));
        add(p, ParameterSpec.of(KVM_FLAG, STRING, "", ParameterCheck.inSet(false, List.of("enabled", "disabled")),
                "enabled: KVM acceleration; disabled: TCG emulation; empty: the binary's default"));
        add(p, ParameterSpec.of(VHOST_NET, BOOL, false, ParameterCheck.NO_CHECK,
                "vhost-net for paravirtual NICs (needs /dev/vhost-net)"));
        add(p, ParameterSpec.of(USE_CHROOT, BOOL, false, ParameterCheck.NO_CHECK,
                "Run QEMU chrooted into an empty directory of its own"));
        add(p, ParameterSpec.of(MEM_PATH, STRING, "", ParameterCheck.OPT_DIR_CHECK,
                "Back guest memory by files in this (hugetlbfs) directory, preallocated"));
        Ganeti30Parameters.addTo(p);
        PARAMETERS = Collections.unmodifiableMap(p);
        Map<String, Object> d = new LinkedHashMap<>();
        p.values().forEach(s -> d.put(s.name(), s.defaultValue()));
        DEFAULTS = Collections.unmodifiableMap(d);
    }

    static void add(Map<String, ParameterSpec> p, ParameterSpec s) {
        p.put(s.name(), s);
    }

    private KvmParameters() {
    }

    static boolean isIpv4OrPath(Object v) {
        if (!(v instanceof String)) {
            return false;
        }
        String s = (String) v;
        return isIpv4(s) || ParameterCheck.isAbsoluteNormalizedPath(s);
    }

    /** A dotted-quad IPv4 address (Ganeti 2011 accepted IPv4 only). */
    public static boolean isIpv4(String s) {
        if (!IPV4.matcher(s).matches()) {
            return false;
        }
        try {
            return InetAddress.getByName(s) instanceof Inet4Address;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** An IPv4 dotted quad or an IPv6 literal, never resolved as a name ({@code spice_bind}). */
    public static boolean isIpAddress(String s) {
        return Ganeti30Rules.isIpAddress(s);
    }

    /** An IPv6 literal such as {@code 2001:db8::1}. */
    public static boolean isIpv6(String s) {
        return Ganeti30Rules.isIpv6(s);
    }

    /** Whether {@code key} ({@link #NIC_TYPE} or {@link #DISK_TYPE}) is set to virtio. */
    public static boolean paravirtual(Map<String, ?> hv, String key) {
        return PARAVIRTUAL.equals(str(hv, key));
    }

    /** The value of {@code key} as text ("" when unset). */
    public static String str(Map<String, ?> hv, String key) {
        Object v = hv.get(key);
        return v == null ? "" : v.toString();
    }

    /** Whether {@code key} is set to true. */
    public static boolean bool(Map<String, ?> hv, String key) {
        return Boolean.TRUE.equals(hv.get(key));
    }

    /** Ganeti's {@code CheckParameterSyntax}: the base checks, then the KVM rules (today's {@code validation.py}). */
    public static void checkSyntax(Map<String, ?> hv) throws ParameterException {
        ParameterChecks.checkSyntax(PARAMETERS, hv);
        if (!str(hv, KERNEL_PATH).isEmpty() && str(hv, ROOT_PATH).isEmpty()) {
            throw new ParameterException(ROOT_PATH, "Need a root partition for the instance, if a kernel is defined");
        }
        if (bool(hv, VNC_X509_VERIFY) && str(hv, VNC_X509_PATH).isEmpty()) {
            throw new ParameterException(VNC_X509_PATH, "vnc_x509_path must be defined, if vnc_x509_verify is");
        }
        if ("cdrom".equals(str(hv, BOOT_ORDER)) && str(hv, CDROM_IMAGE_PATH).isEmpty()) {
            throw new ParameterException(CDROM_IMAGE_PATH, "Cannot boot from cdrom without an ISO path");
        }
        SecurityModel model = SecurityModel.of(hv);
        String domain = str(hv, SECURITY_DOMAIN);
        if (model == SecurityModel.USER && domain.isEmpty()) {
            throw new ParameterException(SECURITY_DOMAIN, "A security domain (user to run kvm as) must be specified");
        }
        if (model != SecurityModel.USER && !domain.isEmpty()) {
            throw new ParameterException(SECURITY_DOMAIN,
                    "Cannot have a security domain when the security model is 'none' or 'pool'");
        }
        Ganeti30Rules.checkSyntax(hv);
    }

    /**
     * What node validation needs to know about the node.
     *
     * @param interfaceExists whether a network interface of that name exists ({@code spice_bind})
     */
    public record Node(Predicate<String> userExists, Path vhostNetDevice, Predicate<String> interfaceExists) {
        public Node {
            Objects.requireNonNull(userExists, "userExists");
            Objects.requireNonNull(vhostNetDevice, "vhostNetDevice");
            Objects.requireNonNull(interfaceExists, "interfaceExists");
        }
    }

    /**
     * Ganeti's {@code ValidateParameters} plus hvkit's node check (docs/ganeti-behaviour.md,
     * "Parameter check texts").
     */
    public static void validate(Map<String, ?> hv, Node node) throws ParameterException {
        ParameterChecks.validate(PARAMETERS, hv);
        if (SecurityModel.of(hv) == SecurityModel.USER && !node.userExists().test(str(hv, SECURITY_DOMAIN))) {
            throw new ParameterException(SECURITY_DOMAIN, "Unknown security domain user " + str(hv, SECURITY_DOMAIN));
        }
        if (bool(hv, VHOST_NET) && paravirtual(hv, NIC_TYPE)
                && !Files.exists(node.vhostNetDevice())) {
            throw new ParameterException(VHOST_NET, "vhost_net is enabled but " + node.vhostNetDevice()
                    + " does not exist on this node (load the vhost_net module, or set vhost_net to false)");
        }
        Ganeti30Rules.validate(hv, node);
    }

    /**
     * {@code kvm_extra} as arguments: split at runs of whitespace, empty pieces dropped, no
     * quoting and no shell (Ganeti splits at single spaces, which makes {@code "a  b"} three
     * arguments, one of them empty).
     */
    public static List<String> kvmExtra(Map<String, ?> hv) {
        String extra = str(hv, KVM_EXTRA).strip();
        return extra.isEmpty() ? List.of() : List.of(extra.split("\\s+"));
    }

    /** Warnings for accepted but questionable combinations (never errors: Ganeti accepted them). */
    public static List<String> assess(Map<String, ?> hv) {
        List<String> w = new ArrayList<>();
        if (bool(hv, VHOST_NET) && !paravirtual(hv, NIC_TYPE)) {
            w.add("vhost_net has no effect with nic_type " + str(hv, NIC_TYPE) + " (only paravirtual NICs use vhost)");
        }
        if (!str(hv, KERNEL_PATH).isEmpty() && !"disk".equals(str(hv, BOOT_ORDER))) {
            w.add("boot_order " + str(hv, BOOT_ORDER) + " is ignored: kernel_path boots the kernel directly");
        }
        if (str(hv, KERNEL_PATH).isEmpty() && !str(hv, INITRD_PATH).isEmpty()) {
            w.add("initrd_path is ignored without kernel_path");
        }
        if (bool(hv, USE_CHROOT) && "none".equals(str(hv, SECURITY_MODEL))) {
            w.add("use_chroot with security_model none: QEMU runs as root inside the chroot, which is no real jail");
        }
        Object bw = hv.get(MIGRATION_BANDWIDTH);
        if (bw instanceof Number && ((Number) bw).longValue() <= 0) {
            w.add("migration_bandwidth " + bw + " MiB/s: QEMU's own default limit applies");
        }
        Object dt = hv.get(MIGRATION_DOWNTIME);
        if (dt instanceof Number && ((Number) dt).longValue() <= 0) {
            w.add("migration_downtime " + dt + " ms: QEMU's own default applies");
        }
        if (bool(hv, VNC_TLS) == false && !str(hv, VNC_BIND_ADDRESS).isEmpty() && isIpv4(str(hv, VNC_BIND_ADDRESS))
                && !str(hv, VNC_BIND_ADDRESS).startsWith("127.")) {
            w.add("VNC on " + str(hv, VNC_BIND_ADDRESS) + " without TLS: the console is readable on the network");
        }
        if (!bool(hv, ACPI)) {
            w.add("acpi is off: a clean shutdown is impossible, stop kills the instance");
        }
        Ganeti30Rules.assess(hv, w);
        return w;
    }
}
