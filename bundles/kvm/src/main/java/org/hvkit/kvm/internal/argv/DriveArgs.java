package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.AUTO_READ_ONLY;
import static org.hvkit.kvm.internal.caps.QemuFeature.DEVICE;
import static org.hvkit.kvm.internal.caps.QemuFeature.DRIVE_AIO;
import static org.hvkit.kvm.internal.caps.QemuFeature.DRIVE_DISCARD;
import static org.hvkit.kvm.internal.params.KvmParameters.CDROM2_IMAGE_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.CDROM_DISK_TYPE;
import static org.hvkit.kvm.internal.params.KvmParameters.CDROM_IMAGE_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.DISK_AIO;
import static org.hvkit.kvm.internal.params.KvmParameters.DISK_CACHE;
import static org.hvkit.kvm.internal.params.KvmParameters.DISK_DISCARD;
import static org.hvkit.kvm.internal.params.KvmParameters.DISK_TYPE;
import static org.hvkit.kvm.internal.params.KvmParameters.FLOPPY_IMAGE_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.SCSI_CONTROLLER_TYPE;

import java.util.Map;
import java.util.Set;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.ParameterCheck;
import org.hvkit.kvm.internal.params.KvmParameters;

/**
 * The disks, the cdroms and the floppy ({@code -drive}, and {@code -device scsi-hd/scsi-cd}
 * behind an explicit {@code scsi_controller_type} controller where QEMU needs one), with Ganeti
 * 3.0's {@code disk_aio}, {@code disk_discard} and {@code cdrom_disk_type}. In the
 * {@link DeviceLayout#SLOTTED} layout a virtio disk is {@code -drive if=none} plus
 * {@code -device virtio-blk-pci} at its PCI slot (Ganeti 3.0's {@code hvinfo}). Every path goes
 * through {@link QemuOpts#escape}: a comma in a {@code dev_path} must not add options of its own.
 */
final class DriveArgs {

    /**
     * Disk templates whose storage two nodes can see at once (shared, or DRBD dual-primary
     * during migration): host caching there corrupts disks on migration, so {@code cache=none}
     * is forced. RBD is cache-coherent and excluded (Ganeti #822); DRBD is included (Ganeti #1824).
     */
    static final Set<String> CACHE_NONE_TEMPLATES = Set.of("sharedfile", "blockdev", "ext", "gluster", "drbd");

    /** Ganeti 3.0's {@code scsi_controller_type} values as QEMU devices ({@code lsi} is QEMU's alias of this one). */
    private static final Map<String, String> SCSI_CONTROLLERS = Map.of("lsi", "lsi53c895a",
            "virtio-scsi-pci", "virtio-scsi-pci", "megasas", "megasas");
    /** {@code cdrom_disk_type} values that mean a SCSI cdrom; scsi-generic and scsi-block pass host devices through. */
    private static final Set<String> SCSI_CDROM_TYPES = Set.of("scsi", "scsi-cd", "scsi-hd");

    private final Argv a;
    private final BootOrder boot;
    private final String diskType;
    /** The cdroms' bus: {@code cdrom_disk_type}, else {@code disk_type} (Ganeti 3.0). */
    private final String cdromType;
    /** {@code ,if=virtio} for paravirtual disks, else the bus itself. */
    private final String ifVal;
    /**
     * QEMU 3.1 removed the implicit controller behind {@code -drive if=scsi} ("machine type does
     * not support if=scsi"); the help output does not show it, so this one gate is by version.
     */
    private final boolean modernScsi;
    /** The disks are SCSI devices behind the explicit controller. */
    private final boolean explicitScsi;
    private boolean controllerAdded;
    private int scsiId;

    private DriveArgs(Argv a, BootOrder boot) {
        this.a = a;
        this.boot = boot;
        this.diskType = a.str(DISK_TYPE);
        this.cdromType = a.str(CDROM_DISK_TYPE).isEmpty() ? diskType : a.str(CDROM_DISK_TYPE);
        this.ifVal = ",if=" + (KvmParameters.paravirtual(a.hv, DISK_TYPE) ? "virtio" : diskType);
        this.modernScsi = a.caps.has(DEVICE) && a.caps.atLeast(3, 1);
        this.explicitScsi = "scsi".equals(diskType) && modernScsi;
    }

    static void render(Argv a, BootOrder boot) throws HypervisorException {
        DriveArgs d = new DriveArgs(a, boot);
        d.disks();
        d.cdrom(a.str(CDROM_IMAGE_PATH), 0, boot.cdrom());
        d.cdrom(a.str(CDROM2_IMAGE_PATH), 1, false);
        d.floppy();
    }

    private void disks() throws HypervisorException {
        if (!"lsi".equals(a.str(SCSI_CONTROLLER_TYPE)) && "scsi".equals(diskType) && !explicitScsi) {
            a.warn("scsi_controller_type " + a.str(SCSI_CONTROLLER_TYPE) + " is ignored: this QEMU puts if=scsi"
                    + " disks on its built-in controller");
        }
        String cacheVal = cacheOption() + aioOption() + discardOption()
                + (a.caps.has(AUTO_READ_ONLY) ? ",auto-read-only=off" : "");
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
            } else if (a.slots != null && KvmParameters.paravirtual(a.hv, DISK_TYPE) && !boot.bootOn()) {
                // the SLOTTED layout: the same virtio disk as if=virtio, at its PCI slot
                String id = DeviceLayout.disk(i);
                a.add("-drive", file + ",if=none,id=" + id + cacheVal);
                a.add("-device", "virtio-blk-pci,id=virtio-" + id + ",drive=" + id + ",addr="
                        + PciSlots.addr(a.slots.allocate(id)));
            } else {
                a.add("-drive", file + ifVal + bootVal + cacheVal);
            }
        }
    }

    /** A cdrom ({@code index} 0: {@code cdrom_image_path}, 1: {@code cdrom2_image_path}); only the first boots. */
    private void cdrom(String iso, int index, boolean bootFrom) throws HypervisorException {
        if (iso.isEmpty()) {
            return;
        }
        String file = "file=" + QemuOpts.escape(iso);
        // a URL (cdrom2_image_path) is opened by QEMU's curl driver, whose format QEMU probes (Ganeti 3.0)
        String opts = ParameterCheck.isUrl(iso) ? ",media=cdrom" : ",format=raw,media=cdrom";
        boolean scsi = SCSI_CDROM_TYPES.contains(cdromType);
        if (!scsi && cdromType.startsWith("scsi-")) {
            throw new HypervisorException("cdrom_disk_type " + cdromType + " passes a host SCSI device through and"
                    + " cannot hold an ISO image; use scsi-cd, scsi, ide or paravirtual");
        }
        if (bootFrom) {
            a.add("-boot", "d");
            if (boot.bootOn()) {
                opts += ",boot=on";
            }
        } else if (scsi && modernScsi) {
            scsiController();
            String id = "cdrom" + index;
            a.add("-drive", file + opts + ",if=none,id=" + id);
            a.add("-device", "scsi-cd,bus=scsi0.0,scsi-id=" + scsiId++ + ",drive=" + id);
            return;
        } else if (!"paravirtual".equals(cdromType)) {
            // a cdrom cannot sit on virtio-blk: paravirtual types leave it on QEMU's default bus
            opts += ",if=" + (scsi ? "scsi" : cdromType);
        }
        a.add("-drive", file + opts);
    }

    /** {@code floppy_image_path} (Ganeti 3.0): a raw image on the floppy controller. */
    private void floppy() {
        String image = a.str(FLOPPY_IMAGE_PATH);
        if (!image.isEmpty()) {
            a.add("-drive", "file=" + QemuOpts.escape(image) + ",format=raw,media=disk,if=floppy");
        }
    }

    /**
     * {@code disk_aio}: {@code native} and {@code io_uring} as {@code ,aio=…} (whether the binary
     * has io_uring is a parameter check: params.BinaryChecks); threads is QEMU's default and stays unsaid.
     */
    private String aioOption() throws HypervisorException {
        String aio = a.str(DISK_AIO);
        if (!"native".equals(aio) && !"io_uring".equals(aio)) {
            return "";
        }
        if (!a.caps.has(DRIVE_AIO)) {
            throw new HypervisorException("disk_aio " + aio + ": this QEMU's -drive has no aio option");
        }
        return ",aio=" + aio;
    }

    /** {@code disk_discard} other than {@code default}: {@code ,discard=ignore|unmap}. */
    private String discardOption() throws HypervisorException {
        String discard = a.str(DISK_DISCARD);
        if (discard.isEmpty() || "default".equals(discard)) {
            return "";
        }
        if (!a.caps.has(DRIVE_DISCARD)) {
            throw new HypervisorException("disk_discard " + discard + ": this QEMU's -drive has no discard option");
        }
        return ",discard=" + QemuOpts.escape(discard);
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

    /** The SCSI controller of {@code scsi_controller_type}, once, before the first SCSI device. */
    private void scsiController() {
        if (!controllerAdded) {
            a.add("-device", SCSI_CONTROLLERS.get(a.str(SCSI_CONTROLLER_TYPE)) + ",id=scsi0");
            controllerAdded = true;
        }
    }
}
