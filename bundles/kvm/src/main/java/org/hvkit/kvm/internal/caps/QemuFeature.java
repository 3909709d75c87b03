package org.hvkit.kvm.internal.caps;

import java.util.ArrayList;
import java.util.List;

/**
 * Options and sub-options whose presence the argv builder cares about, detected from the
 * binary's {@code --help} the way Ganeti's later versions did (the {@code _*_RE} patterns of
 * {@code KVMHypervisor}; docs/ganeti-behaviour.md, "QEMU capabilities"), but on parsed option
 * entries rather than with regular expressions: an entry is a line starting with {@code -}
 * plus its continuation lines, so a sub-option (e.g. {@code ,boot=on|off} on the line after
 * {@code -drive}) counts for its own option and never for the next one.
 */
public enum QemuFeature {
    /** {@code -netdev}/{@code -device} NIC syntax (else legacy {@code -net ...,vlan=}). */
    NETDEV("-netdev", "", Qmp.option("netdev")),
    /** {@code vhost=on} on tap netdevs (Ganeti's pattern {@code ^-netdev\stap.*,vhost=on\|off}). */
    VHOST("-netdev", "tap", ",vhost=on|off"),
    /**
     * {@code fds=x:y:...:z} on tap netdevs: multiqueue taps (Ganeti 3.0's
     * {@code _VIRTIO_NET_QUEUES_RE}, {@code ^-netdev\stap.*,fds=x:y:...:z}); QAPI-typed, so
     * {@code --help} only.
     */
    NETDEV_TAP_FDS("-netdev", "tap", ",fds="),
    ENABLE_KVM("-enable-kvm", ""),
    DISABLE_KVM("-disable-kvm", ""),
    /** Legacy {@code -no-kvm} (kvm-72 … qemu-kvm 1.x). */
    NO_KVM("-no-kvm", ""),
    ACCEL("-accel", "", Qmp.option("accel")),
    MACHINE("-machine", "", Qmp.option("machine")),
    /** {@code -display none} (qemu ≥ 1.4 refuses {@code -nographic} with {@code -daemonize}). */
    DISPLAY("-display", ""),
    USBDEVICE("-usbdevice", ""),
    LOCALTIME("-localtime", ""),
    RTC("-rtc", "", Qmp.option("rtc")),
    RUNAS("-runas", ""),
    CHROOT("-chroot", ""),
    /** QEMU ≥ 9.1: {@code -run-with user=,chroot=} replaces {@code -runas}/{@code -chroot}. */
    RUN_WITH("-run-with", "", "chroot=", "user="),
    /**
     * QEMU ≥ 8.1: {@code -run-with chroot=} (QEMU's docs/about/deprecated.rst: "-chroot (since
     * 8.1)", removed in 9.0), before {@code user=} joined it in 9.1 ({@code -runas} still works there).
     */
    RUN_WITH_CHROOT("-run-with", "", "chroot="),
    NO_ACPI("-no-acpi", ""),
    QMP("-qmp", "", Qmp.option("mon")),
    /** Old kvm that needs {@code ,boot=on} on the boot drive. */
    DRIVE_BOOT_ON("-drive", "", Qmp.parameter("drive", "boot"), ",boot=on|off"),
    /** {@code -chardev socket,...,logfile=} (serial output kept while nobody is attached). */
    CHARDEV_LOGFILE("-chardev", "", Qmp.parameter("chardev", "logfile"), "logfile="),
    /**
     * {@code auto-read-only=on|off} on block nodes (QEMU ≥ 3.1; listed under {@code -blockdev},
     * accepted on {@code -drive} too). hvkit passes {@code auto-read-only=off}: with it on, QEMU
     * reopens an image read-write only when the guest needs it — after {@code -runas} dropped
     * root — and a live migration under security_model=user|pool fails with
     * "bdrv_inactivate_all() failed" (Ganeti #1601; Ganeti 3.0 passes it too).
     */
    AUTO_READ_ONLY("-blockdev", "", Qmp.parameter("drive", "auto-read-only"), ",auto-read-only=on|off"),
    /** {@code -device} (qdev devices: virtio-net-pci, scsi-hd, usb-tablet …). */
    DEVICE("-device", "", Qmp.option("device")),
    /** {@code -object} (TLS credentials for VNC since QEMU 2.5). */
    OBJECT("-object", "", Qmp.option("object")),
    /** {@code -smp n,cores=,threads=,sockets=} (kvm 0.12; Ganeti 3.0's cpu_cores/threads/sockets). */
    SMP_TOPOLOGY("-smp", "", Qmp.parameter("smp-opts", "cores"), "cores="),
    /** {@code aio=threads|native} on {@code -drive} (kvm 0.12; Ganeti 3.0's disk_aio). */
    DRIVE_AIO("-drive", "", Qmp.parameter("drive", "aio"), "aio="),
    /** {@code discard=ignore|unmap} on {@code -drive} (QEMU 1.5; Ganeti 3.0's disk_discard). */
    DRIVE_DISCARD("-drive", "", Qmp.parameter("drive", "discard"), "discard="),
    /** {@code -soundhw} (removed in QEMU 7.1). */
    SOUNDHW("-soundhw", ""),
    /** {@code -audio driver,model=} (QEMU 7.1, replacing {@code -soundhw}). */
    AUDIO("-audio", "", "model="),
    /**
     * {@code -spice} (a build option of QEMU; Ganeti 3.0 checks {@code ^-spice\s} the same way).
     * {@code --help} only: where SPICE is a loadable module (Debian's QEMU 7.2),
     * {@code query-command-line-options} lists it only once the module is loaded.
     */
    SPICE("-spice", ""),
    /** {@code -uuid} (the guest's SMBIOS system UUID; Ganeti 3.0 passes the instance's uuid). */
    UUID("-uuid", ""),
    /** {@code -chardev} (virtio-serial channels: guest agent, SPICE agent). */
    CHARDEV("-chardev", "", Qmp.option("chardev")),
    /**
     * {@code -D logfile} (QEMU's own log; Ganeti 3.0 passes it): a daemonized QEMU writes its
     * stderr there, so a start QEMU rejects after forking keeps its reason. A flag QMP does not list.
     */
    LOG_FILE("-D", "");

    private final String option;
    private final String qualifier;
    private final String[] contains;
    /** Where QMP's {@code query-command-line-options} tells this feature, or null: only {@code --help} can. */
    private final Qmp qmpOption;

    QemuFeature(String option, String qualifier, String... contains) {
        this(option, qualifier, null, contains);
    }

    QemuFeature(String option, String qualifier, Qmp qmpOption, String... contains) {
        this.option = option;
        this.qualifier = qualifier;
        this.qmpOption = qmpOption;
        this.contains = contains;
    }

    /**
     * An option (and parameter) in {@code query-command-line-options}. QMP lists only options
     * with a parameter list: flags ({@code -no-acpi}, {@code -runas}, {@code -enable-kvm},
     * {@code -daemonize}, {@code -display} on 7.2) and QAPI-typed parameters ({@code vhost=} of
     * {@code -netdev}) are not there, so those stay with {@code --help}.
     */
    record Qmp(String option, String parameter) {
        static Qmp option(String option) {
            return new Qmp(option, null);
        }

        static Qmp parameter(String option, String parameter) {
            return new Qmp(option, parameter);
        }
    }

    /** What QMP's facts say of this feature: present, absent, or null when QMP cannot tell. */
    Boolean inQmp(QmpFacts facts) {
        if (qmpOption == null) {
            return null;
        }
        return qmpOption.parameter() == null ? facts.hasOption(qmpOption.option())
                : facts.hasOptionParameter(qmpOption.option(), qmpOption.parameter());
    }

    /** Whether some entry is this option (followed by whitespace), starts with the qualifier and contains the texts in order. */
    boolean presentIn(List<String> entries) {
        for (String e : entries) {
            if (!e.startsWith(option) || e.length() == option.length()
                    || !Character.isWhitespace(e.charAt(option.length()))) {
                continue;
            }
            if (!e.substring(option.length()).stripLeading().startsWith(qualifier)) {
                continue;
            }
            int from = 0;
            boolean all = true;
            for (String c : contains) {
                int at = e.indexOf(c, from);
                if (at < 0) {
                    all = false;
                    break;
                }
                from = at + c.length();
            }
            if (all) {
                return true;
            }
        }
        return false;
    }

    /** The option entries of a help text. */
    static List<String> entries(String help) {
        List<String> entries = new ArrayList<>();
        StringBuilder current = null;
        for (String line : help.split("\n", -1)) {
            if (line.startsWith("-")) {
                if (current != null) {
                    entries.add(current.toString());
                }
                current = new StringBuilder(line);
            } else if (current != null) {
                current.append('\n').append(line);
            }
        }
        if (current != null) {
            entries.add(current.toString());
        }
        return entries;
    }
}
