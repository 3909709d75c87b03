package org.hvkit.kvm.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.ParameterCheck;
import org.hvkit.kvm.internal.params.KvmParameters;

/**
 * Node-side checks of a start that need more than the parameters: the instance's MACs are not
 * in use by another instance running on this node (two guests with one MAC on a bridge break
 * both), every disk is a block device or a regular image file (fault injection started a
 * guest with {@code /dev/null} as its disk), and what tells whether two disk paths are one
 * disk ({@link Identity}). {@link DiskChecks} applies the disk rules with a bound on the file
 * system.
 */
final class StartChecks {

    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFSOCK = 0140000;

    private StartChecks() {
    }

    static void macsUnused(Instance instance, String fail, Map<String, Instance> running) throws HypervisorException {
        for (int i = 0; i < instance.nics().size(); i++) {
            String mac = instance.nics().get(i).mac();
            for (Map.Entry<String, Instance> other : running.entrySet()) {
                int j = indexOfMac(other.getValue(), mac);
                if (j >= 0) {
                    throw new HypervisorException(fail + "nics[" + i + "].mac " + mac
                            + " is already used by instance " + other.getKey() + " (nics[" + j
                            + "]) running on this node");
                }
            }
        }
    }

    private static int indexOfMac(Instance instance, String mac) {
        for (int j = 0; j < instance.nics().size(); j++) {
            Nic n = instance.nics().get(j);
            if (n.mac().equals(mac)) {
                return j;
            }
        }
        return -1;
    }

    /**
     * One disk: a block device or a regular image file (links followed) that the host does not
     * use itself — see {@link HostUse} — and, when a regular file, one under a directory of the
     * node key {@code disk.file.dirs} ({@link HostDisks#outsideFileDirs}). {@code fail} starts
     * the message, {@code field} names the disk in it (a start, a migration target and a hot-add
     * share the rule).
     */
    static void disk(Disk d, String fail, String field, Path rootDir, HostDisks hostDisks) throws HypervisorException {
        disk(d, fail, field);
        Path path = Path.of(d.devPath());
        String use = HostUse.SYSTEM.of(path, rootDir, hostDisks.devices());
        if (use != null) {
            throw new HypervisorException(fail + field + " " + use + "; a guest must not get what the host uses");
        }
        String outside = null;
        try {
            Path real = path.toRealPath();
            if (Files.isRegularFile(real)) {
                outside = hostDisks.outsideFileDirs(real);
            }
        } catch (IOException e) {
            throw new HypervisorException(fail + field + " cannot be inspected: " + e.getMessage(), e);
        }
        if (outside != null) {
            throw new HypervisorException(fail + field + " " + outside);
        }
    }

    /**
     * An instance's own {@code kvm_extra} (raw QEMU arguments: {@code -drive file=/dev/sda} would
     * make every disk rule moot) only where the node allows it: {@code own} are the instance's
     * own hvparams, not the filled ones; a value naming the same arguments as the node's default
     * (the operator's {@code hvparam.kvm_extra}), or none, passes.
     */
    static void kvmExtra(Map<String, Object> own, Map<String, Object> nodeDefaults, boolean allowed, String fail)
            throws HypervisorException {
        if (allowed || !own.containsKey(KvmParameters.KVM_EXTRA)) {
            return;
        }
        List<String> args = KvmParameters.kvmExtra(own);
        if (!args.isEmpty() && !args.equals(KvmParameters.kvmExtra(nodeDefaults))) {
            throw new HypervisorException(fail + KvmParameters.KVM_EXTRA + " '" + KvmParameters.str(own, KvmParameters.KVM_EXTRA)
                    + "' is not this node's default (hvparam.kvm_extra '"
                    + KvmParameters.str(nodeDefaults, KvmParameters.KVM_EXTRA) + "'): raw QEMU arguments from an"
                    + " instance definition are refused unless the node key kvm_extra.from.instances is true");
        }
    }

    /** The parameters naming files QEMU reads as root and the guest then reads (ISO, floppy, kernel, initrd). */
    private static final List<String> GUEST_MEDIA = List.of(KvmParameters.KERNEL_PATH, KvmParameters.INITRD_PATH,
            KvmParameters.CDROM_IMAGE_PATH, KvmParameters.CDROM2_IMAGE_PATH, KvmParameters.FLOPPY_IMAGE_PATH);

    /**
     * The files the guest gets to read are not the host's private ones ({@link HostUse#privateFile}):
     * {@code cdrom_image_path=/etc/shadow} would be the guest's CD-ROM. URLs are QEMU's to fetch.
     */
    static void media(Map<String, Object> hv, Path rootDir, String fail) throws HypervisorException {
        for (String parameter : GUEST_MEDIA) {
            String v = KvmParameters.str(hv, parameter);
            if (v.isEmpty() || ParameterCheck.isUrl(v) || !v.startsWith("/")) {
                continue;
            }
            String use = HostUse.privateFile(Path.of(v), rootDir);
            if (use != null) {
                throw new HypervisorException(fail + parameter + " " + v + " " + use
                        + "; a guest must not get what the host keeps private");
            }
        }
    }

    /** The index in {@code disks} of one that is {@code id}'s disk (see {@link Identity#overlaps}), -1 when none or unknown. */
    static int indexOf(Identity id, List<Identity> disks) {
        for (int j = 0; id != null && j < disks.size(); j++) {
            if (disks.get(j) != null && id.overlaps(disks.get(j))) {
                return j;
            }
        }
        return -1;
    }

    /**
     * What a disk path stands for: {@code self} (a block device by its device number, a file by
     * its file system and inode) and what writing it writes too, {@code within} (a partition's
     * whole disk, a loop device's backing file, the devices a device-mapper device is built on).
     * Two LVs of one volume group share what they are built on and are still two disks: only
     * one being inside the other counts.
     */
    record Identity(Object self, Set<Object> within) {
        /** Whether writing one writes the other: the same, or one inside the other. */
        boolean overlaps(Identity o) {
            return self.equals(o.self) || within.contains(o.self) || o.within.contains(self);
        }
    }

    /** The identity of {@code devPath}, links followed (sysfs at /sys/dev/block); null when it cannot be read. */
    static Identity identity(String devPath) {
        return identity(devPath, Path.of("/sys/dev/block"));
    }

    static Identity identity(String devPath, Path sysDevBlock) {
        try {
            Path p = Path.of(devPath);
            int mode = (Integer) Files.getAttribute(p, "unix:mode");
            if ((mode & S_IFMT) != S_IFBLK) {
                return new Identity(Files.readAttributes(p, BasicFileAttributes.class).fileKey(), Set.of());
            }
            long rdev = (Long) Files.getAttribute(p, "unix:rdev");
            String dev = HostUse.major(rdev) + ":" + HostUse.minor(rdev);
            Set<Object> within = new HashSet<>();
            Path sys = sysDevBlock.resolve(dev);
            if (Files.isDirectory(sys)) {
                beneath(sys.toRealPath(), within, 0);
            }
            return new Identity("block " + dev, within);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** How deep {@link #beneath} follows devices stacked on devices (dm over dm over a partition …). */
    private static final int MAX_STACK = 8;

    /**
     * What writing the block device of sysfs directory {@code dir} writes too, into {@code into}:
     * a partition's whole disk (the directory above it), a loop device's backing file, and the
     * devices a device-mapper or md device is built on ({@code slaves/}, followed down: an LV, a
     * kpartx mapping over a partition of it, a dm-linear over another instance's LV).
     */
    private static void beneath(Path dir, Set<Object> into, int depth) throws IOException {
        if (Files.isRegularFile(dir.resolve("partition"))) {
            into.add("block " + Files.readString(dir.getParent().resolve("dev")).strip());
        }
        Path backing = dir.resolve("loop/backing_file");
        if (Files.isRegularFile(backing)) {
            String file = Files.readString(backing).strip();
            if (file.endsWith(" (deleted)")) {
                file = file.substring(0, file.length() - " (deleted)".length());
            }
            try {
                into.add(Files.readAttributes(Path.of(file), BasicFileAttributes.class).fileKey());
            } catch (IOException | RuntimeException gone) {
                // the backing file is gone or unreachable from here: nothing to compare
            }
        }
        Path slaves = dir.resolve("slaves");
        if (depth >= MAX_STACK || !Files.isDirectory(slaves)) {
            return;
        }
        try (var list = Files.list(slaves)) {
            for (Path slave : (Iterable<Path>) list::iterator) {
                Path real = slave.toRealPath();
                Path devFile = real.resolve("dev");
                if (Files.isRegularFile(devFile) && into.add("block " + Files.readString(devFile).strip())) {
                    beneath(real, into, depth + 1);
                }
            }
        }
    }

    /** The type rule alone: a block device or a regular image file (links followed). */
    static void disk(Disk d, String fail, String field) throws HypervisorException {
        int mode;
        try {
            // follow links: Ganeti hands over instance-disks/<name>:<idx> links to the devices
            mode = (Integer) Files.getAttribute(Path.of(d.devPath()), "unix:mode");
        } catch (NoSuchFileException e) {
            throw new HypervisorException(fail + field + " does not exist");
        } catch (IOException | UnsupportedOperationException | java.nio.file.InvalidPathException e) {
            throw new HypervisorException(fail + field + " cannot be inspected: " + e.getMessage(), e);
        }
        int type = mode & S_IFMT;
        if (type != S_IFBLK && !Files.isRegularFile(Path.of(d.devPath()))) {
            throw new HypervisorException(fail + field + " is " + kind(type)
                    + "; a disk must be a block device or a regular image file");
        }
    }

    /** Whether {@code devPath} is a block device (links followed); false when it cannot be told. */
    static boolean blockDevice(String devPath) {
        try {
            return (((Integer) Files.getAttribute(Path.of(devPath), "unix:mode")) & S_IFMT) == S_IFBLK;
        } catch (IOException | UnsupportedOperationException | java.nio.file.InvalidPathException e) {
            return false;
        }
    }

    private static String kind(int type) {
        switch (type) {
            case S_IFCHR: return "a character device";
            case S_IFIFO: return "a FIFO";
            case S_IFSOCK: return "a socket";
            default: return "a directory or another non-disk file";
        }
    }
}
