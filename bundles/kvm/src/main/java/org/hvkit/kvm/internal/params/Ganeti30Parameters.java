package org.hvkit.kvm.internal.params;

import static org.hvkit.hypervisor.ParameterType.BOOL;
import static org.hvkit.hypervisor.ParameterType.INT;
import static org.hvkit.hypervisor.ParameterType.STRING;
import static org.hvkit.kvm.internal.params.KvmParameters.CDROM2_IMAGE_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.CDROM_DISK_TYPE;
import static org.hvkit.kvm.internal.params.KvmParameters.CDROM_DISK_TYPES;
import static org.hvkit.kvm.internal.params.KvmParameters.CPU_CORES;
import static org.hvkit.kvm.internal.params.KvmParameters.CPU_MASK;
import static org.hvkit.kvm.internal.params.KvmParameters.CPU_SOCKETS;
import static org.hvkit.kvm.internal.params.KvmParameters.CPU_THREADS;
import static org.hvkit.kvm.internal.params.KvmParameters.CPU_TYPE;
import static org.hvkit.kvm.internal.params.KvmParameters.DISK_AIO;
import static org.hvkit.kvm.internal.params.KvmParameters.DISK_DISCARD;
import static org.hvkit.kvm.internal.params.KvmParameters.FLOPPY_IMAGE_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.KEYMAP;
import static org.hvkit.kvm.internal.params.KvmParameters.KVM_EXTRA;
import static org.hvkit.kvm.internal.params.KvmParameters.KVM_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.KVM_PCI_RESERVATIONS;
import static org.hvkit.kvm.internal.params.KvmParameters.MACHINE_VERSION;
import static org.hvkit.kvm.internal.params.KvmParameters.MIGRATION_CAPS;
import static org.hvkit.kvm.internal.params.KvmParameters.OPENSSL_CIPHERS;
import static org.hvkit.kvm.internal.params.KvmParameters.add;
import static org.hvkit.kvm.internal.params.KvmParameters.QEMU_PCI_SLOTS;
import static org.hvkit.kvm.internal.params.KvmParameters.REBOOT_BEHAVIOR;
import static org.hvkit.kvm.internal.params.KvmParameters.SCSI_CONTROLLER_TYPE;
import static org.hvkit.kvm.internal.params.KvmParameters.SCSI_CONTROLLER_TYPES;
import static org.hvkit.kvm.internal.params.KvmParameters.SERIAL_SPEED;
import static org.hvkit.kvm.internal.params.KvmParameters.SOUNDHW;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_BIND;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_IMAGE_COMPRESSION;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_IP_VERSION;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_JPEG_WAN_COMPRESSION;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_PASSWORD_FILE;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_PLAYBACK_COMPRESSION;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_STREAMING_VIDEO;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_TLS_CIPHERS;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_USE_TLS;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_USE_VDAGENT;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_ZLIB_GLZ_WAN_COMPRESSION;
import static org.hvkit.kvm.internal.params.KvmParameters.USB_DEVICES;
import static org.hvkit.kvm.internal.params.KvmParameters.USER_SHUTDOWN;
import static org.hvkit.kvm.internal.params.KvmParameters.USE_GUEST_AGENT;
import static org.hvkit.kvm.internal.params.KvmParameters.VGA;
import static org.hvkit.kvm.internal.params.KvmParameters.VIRTIO_NET_QUEUES;
import static org.hvkit.kvm.internal.params.KvmParameters.VNET_HDR;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.hvkit.hypervisor.CpuMasks;
import org.hvkit.hypervisor.ParameterCheck;
import org.hvkit.hypervisor.ParameterSpec;

/**
 * The 37 KVM parameters Ganeti added after 2.4, as Ganeti 3.0 declares them
 * ({@code KVMHypervisor.PARAMETERS} in {@code lib/hypervisor/hv_kvm/__init__.py}, defaults from
 * {@code hvcDefaults} and value sets from {@code src/Ganeti/Constants.hs}), in the order of
 * Ganeti's dict, appended after the 28 of 2011. None is global: Ganeti 3.0's {@code hvcGlobals}
 * lists only {@code migration_bandwidth}, {@code migration_mode} and {@code migration_port} for
 * KVM. Where Ganeti has {@code NO_CHECK} but the value reaches QEMU with a meaning of its own
 * ({@code cpu_type}, {@code machine_version}, {@code usb_devices}, {@code migration_caps},
 * {@code vga}, {@code soundhw}, {@code keymap}, {@code spice_bind}), hvkit adds a syntax check
 * that admits names only (docs/parameters.md).
 */
final class Ganeti30Parameters {

    /** A QEMU name: machine types, CPU models, device and capability names. */
    private static final String NAME = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";
    private static final Pattern MACHINE_RE = Pattern.compile(NAME);
    /** A network interface name as hvkit accepts it (Linux allows up to 15 bytes). */
    private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,14}");
    /** A CPU model, then feature flags: {@code host}, {@code Haswell,-hle,+x2apic,vmx=on}. */
    private static final Pattern CPU_TYPE_RE = Pattern.compile(NAME + "(,[+-]?" + NAME + "(=" + NAME + ")?){0,64}");
    private static final Pattern USB_DEVICES_RE = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}(,[a-z0-9][a-z0-9-]{0,31}){0,15}");
    private static final Pattern MIGRATION_CAPS_RE = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}(:[a-z0-9][a-z0-9-]{0,63}){0,31}");

    static final String MACHINE_TEXT = "must be a QEMU machine type name (letters, digits, '.', '_', '-')";
    static final String CPU_TYPE_TEXT = "must be a QEMU CPU model (letters, digits, '.', '_', '-'), optionally"
            + " followed by comma-separated feature flags (+flag, -flag, flag=value)";
    static final String USB_DEVICES_TEXT = "must be a comma-separated list of at most 16 USB device names (lower-case"
            + " letters, digits, '-'), e.g. tablet,keyboard";
    static final String MIGRATION_CAPS_TEXT = "must be a colon-separated list of QEMU migration capability names"
            + " (lower-case letters, digits, '-'), e.g. xbzrle:auto-converge";

    private Ganeti30Parameters() {
    }

    static void addTo(Map<String, ParameterSpec> p) {
        // Ganeti's default is the configure-time kvm path with REQ_FILE_CHECK; hvkit's node has kvm.path
        add(p, ParameterSpec.of(KVM_PATH, STRING, "", new ParameterCheck("OPT_EXECUTABLE_CHECK", false,
                        ParameterCheck::isAbsoluteNormalizedPath, "must be an absolute normalized path",
                        Ganeti30Parameters::isExecutableFile, "not found or not an executable file"),
                "QEMU binary; empty: the node's kvm.path. Set, it must be kvm.path or one of the node's kvm.allowed.paths"));
        add(p, ParameterSpec.of(SERIAL_SPEED, INT, 38400L, ParameterCheck.NO_CHECK,
                "Serial console speed (console=ttyS0,<speed> with kernel_path)"));
        spice(p);
        add(p, ParameterSpec.of(FLOPPY_IMAGE_PATH, STRING, "", ParameterCheck.OPT_FILE_CHECK,
                "Floppy disk image (-drive if=floppy)"));
        add(p, ParameterSpec.of(CDROM2_IMAGE_PATH, STRING, "", ParameterCheck.OPT_FILE_OR_URL_CHECK,
                "ISO image (or URL) as a second cdrom"));
        add(p, ParameterSpec.of(SCSI_CONTROLLER_TYPE, STRING, "lsi", ParameterCheck.inSet(true, SCSI_CONTROLLER_TYPES),
                "SCSI controller in front of disk_type scsi disks"));
        add(p, ParameterSpec.of(DISK_DISCARD, STRING, "default",
                ParameterCheck.inSet(false, List.of("default", "ignore", "unmap")),
                "Discard requests of the disks: QEMU's default, ignore or unmap (pass down)"));
        add(p, ParameterSpec.of(CDROM_DISK_TYPE, STRING, "", ParameterCheck.inSet(false, CDROM_DISK_TYPES),
                "Bus of the cdroms; empty: as disk_type"));
        // QEMU reads the keymap as a file of that name under its data directory: a name, never a path
        add(p, ParameterSpec.of(KEYMAP, STRING, "", ParameterCheck.NO_CHECK.withSyntax("KEYMAP_CHECK",
                        v -> matches(MACHINE_RE, v), "must be a keyboard layout name (letters, digits, '.', '_', '-')"),
                "VNC keyboard layout (-k), e.g. de or en-us"));
        add(p, ParameterSpec.of(USE_GUEST_AGENT, BOOL, false, ParameterCheck.NO_CHECK,
                "virtio-serial channel for the QEMU guest agent on a socket in the runtime ctrl/ directory"));
        // io_uring is Ganeti 3.1's (htKvmAioIoUring), taken here as #14 asks; checked against the binary
        add(p, ParameterSpec.of(DISK_AIO, STRING, "threads",
                ParameterCheck.inSet(false, List.of("threads", "native", "io_uring")),
                "Asynchronous I/O of the disks (native needs disk_cache none; io_uring needs a QEMU built with it)"));
        add(p, ParameterSpec.of(VIRTIO_NET_QUEUES, INT, 1L, ParameterCheck.OPT_VIRTIO_NET_QUEUES_CHECK,
                "Queues per paravirtual NIC: more than 1 opens a multiqueue tap (mq=on)"));
        add(p, ParameterSpec.of(USER_SHUTDOWN, BOOL, false, ParameterCheck.NO_CHECK,
                "A guest shutdown leaves QEMU running in state shutdown (-no-shutdown) instead of exiting"));
        add(p, ParameterSpec.of(REBOOT_BEHAVIOR, STRING, "reboot", ParameterCheck.inSet(true, List.of("reboot", "exit")),
                "What a guest reboot does: reboot, or exit (-no-reboot)"));
        cpuMachineAndNetwork(p);
    }

    /** The CPU, machine, peripheral and network parameters, in Ganeti 3.0's order after the disk ones. */
    private static void cpuMachineAndNetwork(Map<String, ParameterSpec> p) {
        add(p, ParameterSpec.of(CPU_MASK, STRING, CpuMasks.ALL_TEXT, ParameterCheck.OPT_MULTI_CPU_MASK_CHECK,
                "Host CPUs for the QEMU process (e.g. 0-3) or, one mask per vCPU, for each vCPU thread (e.g. 0:1)"));
        add(p, ParameterSpec.of(CPU_TYPE, STRING, "", ParameterCheck.NO_CHECK.withSyntax("CPU_TYPE_CHECK",
                        v -> matches(CPU_TYPE_RE, v), CPU_TYPE_TEXT),
                "Emulated CPU (-cpu), e.g. host or Haswell,-hle"));
        add(p, ParameterSpec.of(CPU_CORES, INT, 0L, ParameterCheck.OPT_NONNEGATIVE_INT_CHECK,
                "Cores per socket (-smp cores=); 0: QEMU's choice"));
        add(p, ParameterSpec.of(CPU_THREADS, INT, 0L, ParameterCheck.OPT_NONNEGATIVE_INT_CHECK,
                "Threads per core (-smp threads=); 0: QEMU's choice"));
        add(p, ParameterSpec.of(CPU_SOCKETS, INT, 0L, ParameterCheck.OPT_NONNEGATIVE_INT_CHECK,
                "Sockets (-smp sockets=); 0: QEMU's choice"));
        add(p, ParameterSpec.of(SOUNDHW, STRING, "", ParameterCheck.NO_CHECK.withSyntax("SOUNDHW_CHECK",
                        v -> matches(MACHINE_RE, v), "must be a QEMU sound card model (letters, digits, '.', '_', '-')"),
                "Sound card model (-soundhw, or -audio model= on QEMU 7.1 and later)"));
        add(p, ParameterSpec.of(USB_DEVICES, STRING, "", ParameterCheck.NO_CHECK.withSyntax("USB_DEVICES_CHECK",
                        v -> matches(USB_DEVICES_RE, v), USB_DEVICES_TEXT),
                "Emulated USB devices, comma-separated (-usbdevice, or -device usb-<name>)"));
        add(p, ParameterSpec.of(VGA, STRING, "", ParameterCheck.NO_CHECK.withSyntax("VGA_CHECK",
                        v -> matches(MACHINE_RE, v), "must be a QEMU VGA card type (letters, digits, '.', '_', '-')"),
                "VGA card (-vga), e.g. std, cirrus, qxl, none"));
        add(p, ParameterSpec.of(KVM_EXTRA, STRING, "", ParameterCheck.NO_CHECK,
                "Raw QEMU arguments, split at whitespace and appended (an unchecked escape hatch)"));
        add(p, ParameterSpec.of(MACHINE_VERSION, STRING, "", ParameterCheck.NO_CHECK.withSyntax("MACHINE_VERSION_CHECK",
                        v -> matches(MACHINE_RE, v), MACHINE_TEXT),
                "Machine type (-machine / -M), e.g. pc-i440fx-7.2; empty: the binary's default"));
        add(p, ParameterSpec.of(MIGRATION_CAPS, STRING, "", ParameterCheck.NO_CHECK.withSyntax("MIGRATION_CAPS_CHECK",
                        v -> matches(MIGRATION_CAPS_RE, v), MIGRATION_CAPS_TEXT),
                "QMP migration capabilities to enable on both sides, colon-separated (postcopy-ram: switch to post-copy after 2 passes)"));
        add(p, ParameterSpec.of(KVM_PCI_RESERVATIONS, INT, 12L, new ParameterCheck("PCI_RESERVATIONS_CHECK", false,
                        v -> v instanceof Long && (Long) v >= 0 && (Long) v <= QEMU_PCI_SLOTS,
                        "The number of PCI slots managed by QEMU (max: " + QEMU_PCI_SLOTS + ")", null, null),
                "PCI slots left to QEMU before hotplugged devices (hvkit does not hotplug: no effect)"));
        add(p, ParameterSpec.of(VNET_HDR, BOOL, true, ParameterCheck.NO_CHECK,
                "Open the taps of paravirtual NICs with IFF_VNET_HDR (checksum/segmentation offload)"));
    }

    private static void spice(Map<String, ParameterSpec> p) {
        add(p, ParameterSpec.of(SPICE_BIND, STRING, "", ParameterCheck.NO_CHECK.withSyntax("SPICE_BIND_CHECK",
                        v -> v instanceof String && (Ganeti30Rules.isIpAddress((String) v) || matches(IFNAME, v)),
                        "must be an IP address or a network interface name"),
                "SPICE on this IP address or the address of this interface (port = network_port); empty: no SPICE"));
        add(p, ParameterSpec.of(SPICE_IP_VERSION, INT, 0L, new ParameterCheck("SPICE_IP_VERSION_CHECK", false,
                        v -> Long.valueOf(0).equals(v) || Long.valueOf(4).equals(v) || Long.valueOf(6).equals(v),
                        "The SPICE IP version should be 4 or 6", null, null),
                "IP version of spice_bind: 4, 6, or 0 (unspecified)"));
        add(p, ParameterSpec.of(SPICE_PASSWORD_FILE, STRING, "", ParameterCheck.OPT_FILE_CHECK,
                "File whose single line is the SPICE password (set over QMP, never on a command line)"));
        add(p, ParameterSpec.of(SPICE_IMAGE_COMPRESSION, STRING, "", ParameterCheck.inSet(false,
                        List.of("auto_glz", "auto_lz", "glz", "lz", "off", "quic")),
                "SPICE lossless image compression"));
        List<String> lossy = List.of("always", "auto", "never");
        add(p, ParameterSpec.of(SPICE_JPEG_WAN_COMPRESSION, STRING, "", ParameterCheck.inSet(false, lossy),
                "SPICE JPEG compression over slow links"));
        add(p, ParameterSpec.of(SPICE_ZLIB_GLZ_WAN_COMPRESSION, STRING, "", ParameterCheck.inSet(false, lossy),
                "SPICE zlib-glz compression over slow links"));
        add(p, ParameterSpec.of(SPICE_STREAMING_VIDEO, STRING, "", ParameterCheck.inSet(false,
                        List.of("all", "filter", "off")),
                "SPICE video stream detection"));
        add(p, ParameterSpec.of(SPICE_PLAYBACK_COMPRESSION, BOOL, true, ParameterCheck.NO_CHECK,
                "SPICE audio compression"));
        add(p, ParameterSpec.of(SPICE_USE_TLS, BOOL, false, ParameterCheck.NO_CHECK,
                "SPICE over TLS on network_port with the node's spice.certificate and spice.ca.certificate"));
        add(p, ParameterSpec.of(SPICE_TLS_CIPHERS, STRING, OPENSSL_CIPHERS, ParameterCheck.NO_CHECK,
                "OpenSSL cipher list for SPICE over TLS"));
        add(p, ParameterSpec.of(SPICE_USE_VDAGENT, BOOL, true, ParameterCheck.NO_CHECK,
                "SPICE agent channel (virtio-serial); off: agent-mouse=off"));
    }

    private static boolean matches(Pattern pattern, Object v) {
        return v instanceof String && pattern.matcher((String) v).matches();
    }

    private static boolean isExecutableFile(Object v) {
        if (!(v instanceof String)) {
            return false;
        }
        Path path = Path.of((String) v);
        return Files.isRegularFile(path) && Files.isExecutable(path);
    }
}
