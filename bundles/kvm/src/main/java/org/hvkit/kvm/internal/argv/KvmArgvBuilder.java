package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.ACCEL;
import static org.hvkit.kvm.internal.caps.QemuFeature.AUTO_READ_ONLY;
import static org.hvkit.kvm.internal.caps.QemuFeature.CHARDEV_LOGFILE;
import static org.hvkit.kvm.internal.caps.QemuFeature.CHROOT;
import static org.hvkit.kvm.internal.caps.QemuFeature.DEVICE;
import static org.hvkit.kvm.internal.caps.QemuFeature.DISABLE_KVM;
import static org.hvkit.kvm.internal.caps.QemuFeature.DISPLAY;
import static org.hvkit.kvm.internal.caps.QemuFeature.DRIVE_BOOT_ON;
import static org.hvkit.kvm.internal.caps.QemuFeature.ENABLE_KVM;
import static org.hvkit.kvm.internal.caps.QemuFeature.LOCALTIME;
import static org.hvkit.kvm.internal.caps.QemuFeature.MACHINE;
import static org.hvkit.kvm.internal.caps.QemuFeature.NETDEV;
import static org.hvkit.kvm.internal.caps.QemuFeature.NO_ACPI;
import static org.hvkit.kvm.internal.caps.QemuFeature.NO_KVM;
import static org.hvkit.kvm.internal.caps.QemuFeature.OBJECT;
import static org.hvkit.kvm.internal.caps.QemuFeature.QMP;
import static org.hvkit.kvm.internal.caps.QemuFeature.RTC;
import static org.hvkit.kvm.internal.caps.QemuFeature.RUNAS;
import static org.hvkit.kvm.internal.caps.QemuFeature.RUN_WITH;
import static org.hvkit.kvm.internal.caps.QemuFeature.USBDEVICE;
import static org.hvkit.kvm.internal.caps.QemuFeature.VHOST;
import static org.hvkit.kvm.internal.params.KvmParameters.ACPI;
import static org.hvkit.kvm.internal.params.KvmParameters.BOOT_ORDER;
import static org.hvkit.kvm.internal.params.KvmParameters.CDROM_IMAGE_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.DISK_CACHE;
import static org.hvkit.kvm.internal.params.KvmParameters.DISK_TYPE;
import static org.hvkit.kvm.internal.params.KvmParameters.INITRD_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.KERNEL_ARGS;
import static org.hvkit.kvm.internal.params.KvmParameters.KERNEL_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.KVM_FLAG;
import static org.hvkit.kvm.internal.params.KvmParameters.MEM_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.MIGRATION_PORT;
import static org.hvkit.kvm.internal.params.KvmParameters.NIC_TYPE;
import static org.hvkit.kvm.internal.params.KvmParameters.ROOT_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.SECURITY_DOMAIN;
import static org.hvkit.kvm.internal.params.KvmParameters.SECURITY_MODEL;
import static org.hvkit.kvm.internal.params.KvmParameters.SERIAL_CONSOLE;
import static org.hvkit.kvm.internal.params.KvmParameters.USB_MOUSE;
import static org.hvkit.kvm.internal.params.KvmParameters.USE_CHROOT;
import static org.hvkit.kvm.internal.params.KvmParameters.USE_LOCALTIME;
import static org.hvkit.kvm.internal.params.KvmParameters.VHOST_NET;
import static org.hvkit.kvm.internal.params.KvmParameters.VNC_BIND_ADDRESS;
import static org.hvkit.kvm.internal.params.KvmParameters.VNC_PASSWORD_FILE;
import static org.hvkit.kvm.internal.params.KvmParameters.VNC_TLS;
import static org.hvkit.kvm.internal.params.KvmParameters.VNC_X509_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.VNC_X509_VERIFY;
import static org.hvkit.kvm.internal.params.KvmParameters.bool;
import static org.hvkit.kvm.internal.params.KvmParameters.str;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.runtime.RuntimePaths;

/**
 * Turns an instance into QEMU's argv — a pure function of its inputs, no I/O (libvirt's
 * {@code qemu_command.c} is the model). {@link #generate} is Ganeti's
 * {@code _GenerateKVMRuntime} (SPEC c.1), saved as the runtime; {@link #renderForNode} adds what
 * only the executing node knows (SPEC c.2). Old syntax is produced only where the binary's
 * capabilities need it, new syntax only where it has it (SPEC k).
 */
public final class KvmArgvBuilder {

    /**
     * Disk templates whose storage two nodes can see at once (shared, or DRBD dual-primary
     * during migration): host caching there corrupts disks on migration, so {@code cache=none}
     * is forced. RBD is cache-coherent and excluded (Ganeti #822); DRBD is included (#1824).
     */
    public static final Set<String> CACHE_NONE_TEMPLATES = Set.of("sharedfile", "blockdev", "ext", "gluster", "drbd");
    private static final int VNC_BASE_PORT = 5900;
    private static final String VNC_TLS_ID = "vnctls0";

    private final Path kvmBinary;
    private final RuntimePaths paths;

    public KvmArgvBuilder(Path kvmBinary, RuntimePaths paths) {
        this.kvmBinary = kvmBinary;
        this.paths = paths;
    }

    /** The saved runtime and the warnings generation produced (e.g. the cache override). */
    public record Generated(KvmRuntime runtime, List<String> warnings) {
    }

    /**
     * SPEC c.1 with hvkit's fixes: no boot flags with a kernel (#286), {@code boot=on} only for
     * binaries that know it, no virtio cdrom, no VNC suffixes on an invalid display.
     *
     * @param hv the filled hvparams
     */
    public Generated generate(Instance instance, Map<String, Object> hv, QemuCapabilities caps)
            throws HypervisorException {
        String name = instance.name();
        List<String> warnings = new ArrayList<>();
        List<String> a = new ArrayList<>();
        a.add(kvmBinary.toString());
        a.add("-name");
        a.add(QemuOpts.escape(name));
        a.add("-m");
        a.add(Integer.toString(instance.beparams().memory()));
        a.add("-smp");
        a.add(Integer.toString(instance.beparams().vcpus()));
        a.add("-pidfile");
        a.add(paths.pidFile(name).toString());
        a.add("-daemonize");
        if (!bool(hv, ACPI)) {
            if (caps.has(NO_ACPI)) {
                a.add("-no-acpi");
            } else {
                a.add("-machine");
                a.add("acpi=off");
            }
        }
        accelerator(str(hv, KVM_FLAG), caps, a, warnings::add);

        boolean kernel = !str(hv, KERNEL_PATH).isEmpty();
        String bootOrder = str(hv, BOOT_ORDER);
        String diskType = str(hv, DISK_TYPE);
        // a kernel boots directly: boot flags as well would give two boot devices (Ganeti #286)
        boolean bootDisk = !kernel && "disk".equals(bootOrder);
        boolean bootCdrom = !kernel && "cdrom".equals(bootOrder);
        boolean bootNetwork = !kernel && "network".equals(bootOrder);
        boolean bootOn = caps.has(DRIVE_BOOT_ON) && !"ide".equals(diskType);
        if (bootNetwork) {
            a.add("-boot");
            a.add("n");
        }

        String ifVal = ",if=" + ("paravirtual".equals(diskType) ? "virtio" : diskType);
        String cacheVal = cacheOption(instance.diskTemplate(), str(hv, DISK_CACHE), warnings)
                + (caps.has(AUTO_READ_ONLY) ? ",auto-read-only=off" : "");
        // QEMU 3.1 removed the implicit controller behind -drive if=scsi ("machine type does not
        // support if=scsi"); the help output does not show it, so this one gate is by version
        boolean explicitScsi = "scsi".equals(diskType) && caps.has(DEVICE) && caps.atLeast(3, 1);
        int scsiId = 0;
        for (int i = 0; i < instance.disks().size(); i++) {
            Disk disk = instance.disks().get(i);
            if (disk.mode() != DiskMode.RW) {
                throw new HypervisorException("Instance has read-only disks which are not supported by KVM");
            }
            String bootVal = "";
            boolean firstBoot = bootDisk;
            if (bootDisk) {
                a.add("-boot");
                a.add("c");
                bootVal = bootOn ? ",boot=on" : "";
                bootDisk = false;
            }
            if (explicitScsi) {
                scsiController(a, scsiId);
                a.add("-drive");
                a.add("file=" + QemuOpts.escape(disk.devPath()) + ",format=raw,if=none,id=disk" + i + cacheVal);
                a.add("-device");
                a.add("scsi-hd,bus=scsi0.0,scsi-id=" + scsiId++ + ",drive=disk" + i + (firstBoot ? ",bootindex=0" : ""));
                continue;
            }
            a.add("-drive");
            a.add("file=" + QemuOpts.escape(disk.devPath()) + ",format=raw" + ifVal + bootVal + cacheVal);
        }

        String iso = QemuOpts.escape(str(hv, CDROM_IMAGE_PATH));
        if (!iso.isEmpty()) {
            String opts = ",format=raw,media=cdrom";
            if (bootCdrom) {
                a.add("-boot");
                a.add("d");
                if (bootOn) {
                    opts += ",boot=on";
                }
            } else if (explicitScsi) {
                scsiController(a, scsiId);
                a.add("-drive");
                a.add("file=" + iso + opts + ",if=none,id=cdrom0");
                a.add("-device");
                a.add("scsi-cd,bus=scsi0.0,scsi-id=" + scsiId + ",drive=cdrom0");
                iso = null;
            } else if (!"paravirtual".equals(diskType)) {
                // a cdrom cannot sit on virtio-blk: paravirtual disk types leave it on QEMU's default bus
                opts += ifVal;
            }
            if (iso != null) {
                a.add("-drive");
                a.add("file=" + iso + opts);
            }
        }

        if (kernel) {
            a.add("-kernel");
            a.add(str(hv, KERNEL_PATH));
            if (!str(hv, INITRD_PATH).isEmpty()) {
                a.add("-initrd");
                a.add(str(hv, INITRD_PATH));
            }
            List<String> append = new ArrayList<>();
            append.add("root=" + str(hv, ROOT_PATH));
            if (!str(hv, KERNEL_ARGS).isEmpty()) {
                append.add(str(hv, KERNEL_ARGS));
            }
            if (bool(hv, SERIAL_CONSOLE)) {
                append.add("console=ttyS0,38400");
            }
            a.add("-append");
            a.add(String.join(" ", append));
        }

        if (!str(hv, MEM_PATH).isEmpty()) {
            a.add("-mem-path");
            a.add(str(hv, MEM_PATH));
            a.add("-mem-prealloc");
        }

        String vnc = str(hv, VNC_BIND_ADDRESS);
        String mouse = str(hv, USB_MOUSE);
        if (!mouse.isEmpty()) {
            usbPointer(mouse, caps, a, true);
        } else if (!vnc.isEmpty()) {
            usbPointer("tablet", caps, a, false);
        }
        display(name, vnc, instance.networkPort(), hv, caps, a, warnings);

        // the monitor, QMP and serial sockets belong to execution (descriptors of this node)
        if (!bool(hv, SERIAL_CONSOLE)) {
            a.add("-serial");
            a.add("none");
        }
        if (bool(hv, USE_LOCALTIME)) {
            if (caps.has(LOCALTIME)) {
                a.add("-localtime");
            } else if (caps.has(RTC)) {
                a.add("-rtc");
                a.add("base=localtime");
            } else {
                warnings.add("use_localtime: this QEMU has neither -localtime nor -rtc; the guest clock stays UTC");
            }
        }
        if (bool(hv, USE_CHROOT) && caps.has(CHROOT) && !caps.has(RUN_WITH)) {
            // -chroot takes a plain path (no option string)
            a.add("-chroot");
            a.add(paths.chrootDir(name).toString());
        }
        Map<String, Object> saved = new LinkedHashMap<>(hv);
        return new Generated(new KvmRuntime(a, instance.nics(), saved), warnings);
    }

    /**
     * SPEC c.2: the saved command plus {@code -runas}/{@code -run-with}, the NICs on the given
     * descriptor numbers, {@code -incoming}, {@code -S}.
     *
     * @param confHv the parameters configured now (security, chroot creation); the saved ones
     *               win for everything the guest can see
     */
    public List<String> renderForNode(KvmRuntime runtime, Map<String, Object> confHv, QemuCapabilities caps,
                                ExecutionContext ctx) throws HypervisorException {
        Map<String, Object> up = new LinkedHashMap<>(confHv);
        up.putAll(runtime.hvparams());
        String name = argAfter(runtime.argv(), "-name");
        List<String> a = new ArrayList<>(runtime.argv());
        controlSockets(name, bool(up, SERIAL_CONSOLE), caps, ctx.control(), a);

        String model = str(confHv, SECURITY_MODEL);
        boolean runWith = caps.has(RUN_WITH);
        String chroot = runWith && bool(up, USE_CHROOT) ? paths.chrootDir(name).toString() : null;
        if ("user".equals(model)) {
            runAs(str(confHv, SECURITY_DOMAIN), chroot, caps, a);
            chroot = null;
        } else if (chroot != null && !"pool".equals(model)) {
            a.add("-run-with");
            a.add("chroot=" + QemuOpts.escape(chroot));
            chroot = null;
        }

        List<Nic> nics = runtime.nics();
        if (ctx.nicFds().size() != nics.size()) {
            throw new IllegalArgumentException(nics.size() + " NICs but " + ctx.nicFds().size() + " tap descriptors");
        }
        if (nics.isEmpty()) {
            a.add("-net");
            a.add("none");
        } else {
            String nicType = str(up, NIC_TYPE);
            boolean paravirtual = "paravirtual".equals(nicType);
            String model0 = paravirtual ? caps.paravirtualNicModel() : nicType;
            String vhost = "";
            if (paravirtual && bool(up, VHOST_NET)) {
                if (!caps.has(VHOST)) {
                    throw new HypervisorException("vhost_net is configured but it is not available");
                }
                vhost = ",vhost=on";
            }
            for (int i = 0; i < nics.size(); i++) {
                int fd = ctx.nicFds().get(i);
                String mac = nics.get(i).mac();
                if (caps.has(NETDEV)) {
                    a.add("-netdev");
                    a.add("type=tap,id=netdev" + i + ",fd=" + fd + vhost);
                    a.add("-device");
                    a.add(model0 + ",mac=" + mac + ",netdev=netdev" + i);
                } else {
                    a.add("-net");
                    a.add("tap,vlan=" + i + ",fd=" + fd);
                    a.add("-net");
                    a.add("nic,vlan=" + i + ",macaddr=" + mac + ",model=" + model0);
                }
            }
        }
        if (ctx.incomingAddress() != null) {
            a.add("-incoming");
            a.add("tcp:" + ctx.incomingAddress() + ":" + up.get(MIGRATION_PORT));
        }
        if (caps.has(QMP) || ctx.startPaused()) {
            // started stopped; the driver sets the VNC password over QMP, then sends cont
            a.add("-S");
        }
        if ("pool".equals(model)) {
            if (ctx.poolUser() == null) {
                throw new IllegalArgumentException("security_model pool needs the pool uid's user name");
            }
            runAs(ctx.poolUser(), chroot, caps, a);
        }
        return a;
    }

    private static void runAs(String user, String chroot, QemuCapabilities caps, List<String> a)
            throws HypervisorException {
        if (caps.has(RUN_WITH)) {
            a.add("-run-with");
            a.add((chroot == null ? "" : "chroot=" + QemuOpts.escape(chroot) + ",") + "user=" + QemuOpts.escape(user));
        } else if (caps.has(RUNAS)) {
            a.add("-runas");
            a.add(user);
        } else {
            throw new HypervisorException("This QEMU can neither -runas nor -run-with user=: cannot run as " + user);
        }
    }

    private static void accelerator(String flag, QemuCapabilities caps, List<String> a, Consumer<String> warn) {
        if ("enabled".equals(flag)) {
            if (caps.has(ENABLE_KVM)) {
                a.add("-enable-kvm");
            } else if (caps.has(ACCEL)) {
                a.add("-accel");
                a.add("kvm");
            } else if (caps.has(MACHINE)) {
                a.add("-machine");
                a.add("accel=kvm");
            } else {
                warn.accept("kvm_flag enabled: this QEMU has no option to request KVM; its default applies");
            }
        } else if ("disabled".equals(flag)) {
            if (caps.has(DISABLE_KVM)) {
                a.add("-disable-kvm");
            } else if (caps.has(ACCEL)) {
                a.add("-accel");
                a.add("tcg");
            } else if (caps.has(MACHINE)) {
                a.add("-machine");
                a.add("accel=tcg");
            } else if (caps.has(NO_KVM)) {
                a.add("-no-kvm");
            } else {
                warn.accept("kvm_flag disabled: this QEMU has no option to refuse KVM; its default applies");
            }
        }
    }

    private static String cacheOption(String template, String cache, List<String> warnings) {
        if (CACHE_NONE_TEMPLATES.contains(template)) {
            if (!"none".equals(cache)) {
                warnings.add("KVM: overriding disk_cache setting '" + cache + "' with 'none' to prevent shared"
                        + " storage corruption on migration");
            }
            return ",cache=none";
        }
        return "default".equals(cache) ? "" : ",cache=" + cache;
    }

    /** The SCSI controller, once, before the first SCSI device (Ganeti's scsi_controller_type lsi). */
    private static void scsiController(List<String> a, int devicesSoFar) {
        if (devicesSoFar == 0) {
            a.add("-device");
            a.add("lsi53c895a,id=scsi0");
        }
    }

    private static void usbPointer(String kind, QemuCapabilities caps, List<String> a, boolean explicit) {
        if (caps.has(USBDEVICE)) {
            if (explicit) {
                a.add("-usb");
            }
            a.add("-usbdevice");
            a.add(kind);
        } else {
            a.add("-usb");
            a.add("-device");
            a.add("usb-" + kind);
        }
    }

    private void display(String name, String vnc, int port, Map<String, Object> hv, QemuCapabilities caps,
                         List<String> a, List<String> warnings) throws HypervisorException {
        if (vnc.isEmpty()) {
            if (caps.has(DISPLAY)) {
                a.add("-display");
                a.add("none");
            } else {
                a.add("-nographic");
            }
            return;
        }
        // TLS credential objects and password=on exist from QEMU 2.5; the old ",tls,x509=" form
        // was removed in 3.1 (Ganeti #1338)
        boolean modern = caps.has(OBJECT) && caps.atLeast(2, 5);
        String password = str(hv, VNC_PASSWORD_FILE).isEmpty() ? "" : modern ? ",password=on" : ",password";
        if (!KvmParameters.isIpv4(vnc)) {
            // no TLS on a unix socket (as Ganeti); the password is set over QMP, so QEMU must ask for one
            Path socket = RuntimePaths.vncSocket(vnc, name);
            RuntimePaths.checkSocketPath(socket, "QEMU binds the VNC socket itself: use a shorter vnc_bind_address");
            a.add("-vnc");
            a.add("unix:" + QemuOpts.escape(socket.toString()) + password);
            return;
        }
        if (port <= VNC_BASE_PORT) {
            warnings.add("Network port is not a valid VNC display (" + port + " < " + VNC_BASE_PORT
                    + "). Not starting VNC");
            a.add("-vnc");
            a.add("none");
            return;
        }
        int displayNo = port - VNC_BASE_PORT;
        StringBuilder arg = new StringBuilder("0.0.0.0".equals(vnc) ? ":" + displayNo : vnc + ":" + displayNo);
        List<String> objects = new ArrayList<>();
        if (bool(hv, VNC_TLS)) {
            String x509 = str(hv, VNC_X509_PATH);
            if (modern) {
                objects.add("-object");
                objects.add(x509.isEmpty() ? "tls-creds-anon,id=" + VNC_TLS_ID + ",endpoint=server"
                        : "tls-creds-x509,id=" + VNC_TLS_ID + ",endpoint=server,dir=" + QemuOpts.escape(x509)
                        + ",verify-peer="
                        + (bool(hv, VNC_X509_VERIFY) ? "yes" : "no"));
                arg.append(",tls-creds=").append(VNC_TLS_ID);
            } else {
                arg.append(",tls");
                if (bool(hv, VNC_X509_VERIFY)) {
                    arg.append(",x509verify=").append(QemuOpts.escape(x509));
                } else if (!x509.isEmpty()) {
                    arg.append(",x509=").append(QemuOpts.escape(x509));
                }
            }
        }
        arg.append(password);
        a.addAll(objects);
        a.add("-vnc");
        a.add(arg.toString());
    }

    /**
     * The human monitor, QMP and the serial console. Where QEMU takes descriptors, hvkit has
     * bound the sockets (any root.dir length works) and passes them; else QEMU binds the paths,
     * which must then fit sockaddr_un. The serial console keeps a log as well: a unix socket
     * serves one client and drops output while nobody listens.
     */
    private void controlSockets(String name, boolean serial, QemuCapabilities caps, ExecutionContext.ControlFds fds,
                                List<String> a) throws HypervisorException {
        String log = ",logfile=" + QemuOpts.escape(paths.serialLog(name).toString());
        if (fds != null) {
            chardev(a, "hmp0", fds.monitor(), "");
            a.add("-mon");
            a.add("chardev=hmp0,mode=readline");
            chardev(a, "qmp0", fds.qmp(), "");
            a.add("-mon");
            a.add("chardev=qmp0,mode=control");
            if (serial) {
                chardev(a, "serial0", fds.serial(), log);
                a.add("-serial");
                a.add("chardev:serial0");
            }
            return;
        }
        paths.checkSocketPaths(name);
        boolean modern = caps.has(CHARDEV_LOGFILE);
        a.add("-monitor");
        a.add(socketArg(paths.monitorSocket(name), modern));
        if (caps.has(QMP)) {
            a.add("-qmp");
            a.add(socketArg(paths.qmpSocket(name), modern));
        }
        if (serial && modern) {
            a.add("-chardev");
            a.add("socket,id=serial0,path=" + QemuOpts.escape(paths.serialSocket(name).toString())
                    + ",server=on,wait=off" + log);
            a.add("-serial");
            a.add("chardev:serial0");
        } else if (serial) {
            a.add("-serial");
            a.add(socketArg(paths.serialSocket(name), false));
        }
    }

    private static void chardev(List<String> a, String id, int fd, String extra) {
        a.add("-chardev");
        a.add("socket,id=" + id + ",fd=" + fd + ",server=on,wait=off" + extra);
    }

    private static String socketArg(Path socket, boolean modern) {
        return "unix:" + QemuOpts.escape(socket.toString()) + (modern ? ",server=on,wait=off" : ",server,nowait");
    }

    static String argAfter(List<String> argv, String option) {
        int i = argv.indexOf(option);
        if (i < 0 || i + 1 >= argv.size()) {
            throw new IllegalArgumentException("the saved command has no " + option);
        }
        return argv.get(i + 1);
    }
}
