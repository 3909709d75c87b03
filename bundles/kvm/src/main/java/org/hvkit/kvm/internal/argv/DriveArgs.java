package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.AUTO_READ_ONLY;
import static org.hvkit.kvm.internal.caps.QemuFeature.DEVICE;
import static org.hvkit.kvm.internal.params.KvmParameters.CDROM_IMAGE_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.DISK_CACHE;
import static org.hvkit.kvm.internal.params.KvmParameters.DISK_TYPE;

import java.util.Set;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.params.KvmParameters;

/**
 * The disks and the cdrom ({@code -drive}, and {@code -device scsi-hd/scsi-cd} behind an
 * explicit controller where QEMU needs one). Every path goes through {@link QemuOpts#escape}:
 * a comma in a {@code dev_path} must not add options of its own.
 */
final class DriveArgs {

    /**
     * Disk templates whose storage two nodes can see at once (shared, or DRBD dual-primary
     * during migration): host caching there corrupts disks on migration, so {@code cache=none}
     * is forced. RBD is cache-coherent and excluded (Ganeti #822); DRBD is included (Ganeti #1824).
     */
    static final Set<String> CACHE_NONE_TEMPLATES = Set.of("sharedfile", "blockdev", "ext", "gluster", "drbd");

    private final Argv a;
    private final BootOrder boot;
    private final String diskType;
    /** {@code ,if=virtio} for paravirtual disks, else the bus itself. */
    private final String ifVal;
    /**
     * QEMU 3.1 removed the implicit controller behind {@code -drive if=scsi} ("machine type does
     * not support if=scsi"); the help output does not show it, so this one gate is by version.
     */
    private final boolean explicitScsi;
    private int scsiId;

    private DriveArgs(Argv a, BootOrder boot) {
        this.a = a;
        this.boot = boot;
        this.diskType = a.str(DISK_TYPE);
        this.ifVal = ",if=" + (KvmParameters.paravirtual(a.hv, DISK_TYPE) ? "virtio" : diskType);
        this.explicitScsi = "scsi".equals(diskType) && a.caps.has(DEVICE) && a.caps.atLeast(3, 1);
    }

    static void render(Argv a, BootOrder boot) throws HypervisorException {
        DriveArgs d = new DriveArgs(a, boot);
        d.disks();
        d.cdrom();
    }

    private void disks() throws HypervisorException {
        String cacheVal = cacheOption() + (a.caps.has(AUTO_READ_ONLY) ? ",auto-read-only=off" : "");
        boolean bootDisk = boot.disk();
        for (int i = 0; i < a.instance.disks().size(); i++) {
            Disk disk = a.instance.disks().get(i);
            if (disk.mode() != DiskMode.RW) {
                throw new HypervisorException("Instance has read-only disks which are not supported by KVM");
            }
            String bootVal = "";
            boolean firstBoot = bootDisk;
            if (bootDisk) {
                a.add("-boot", "c");
                bootVal = boot.bootOn() ? ",boot=on" : "";
                bootDisk = false;
            }
            String file = "file=" + QemuOpts.escape(disk.devPath()) + ",format=raw";
            if (explicitScsi) {
                scsiController();
                a.add("-drive", file + ",if=none,id=disk" + i + cacheVal);
                a.add("-device", "scsi-hd,bus=scsi0.0,scsi-id=" + scsiId++ + ",drive=disk" + i
                        + (firstBoot ? ",bootindex=0" : ""));
            } else {
                a.add("-drive", file + ifVal + bootVal + cacheVal);
            }
        }
    }

    private void cdrom() {
        String iso = a.str(CDROM_IMAGE_PATH);
        if (iso.isEmpty()) {
            return;
        }
        String file = "file=" + QemuOpts.escape(iso);
        String opts = ",format=raw,media=cdrom";
        if (boot.cdrom()) {
            a.add("-boot", "d");
            if (boot.bootOn()) {
                opts += ",boot=on";
            }
        } else if (explicitScsi) {
            scsiController();
            a.add("-drive", file + opts + ",if=none,id=cdrom0");
            a.add("-device", "scsi-cd,bus=scsi0.0,scsi-id=" + scsiId + ",drive=cdrom0");
            return;
        } else if (!KvmParameters.paravirtual(a.hv, DISK_TYPE)) {
            // a cdrom cannot sit on virtio-blk: paravirtual disk types leave it on QEMU's default bus
            opts += ifVal;
        }
        a.add("-drive", file + opts);
    }

    private String cacheOption() {
        String cache = a.str(DISK_CACHE);
        if (CACHE_NONE_TEMPLATES.contains(a.instance.diskTemplate())) {
            if (!"none".equals(cache)) {
                a.warn("KVM: overriding disk_cache setting '" + cache + "' with 'none' to prevent shared"
                        + " storage corruption on migration");
            }
            return ",cache=none";
        }
        return "default".equals(cache) ? "" : ",cache=" + cache;
    }

    /** The SCSI controller, once, before the first SCSI device (Ganeti's scsi_controller_type lsi). */
    private void scsiController() {
        if (scsiId == 0) {
            a.add("-device", "lsi53c895a,id=scsi0");
        }
    }
}
