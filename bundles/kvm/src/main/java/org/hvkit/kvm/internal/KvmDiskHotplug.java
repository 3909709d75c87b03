package org.hvkit.kvm.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceEvents;
import org.hvkit.hypervisor.ParameterCheck;
import org.hvkit.kvm.internal.argv.DeviceLayout;
import org.hvkit.kvm.internal.argv.KvmArgvBuilder;
import org.hvkit.kvm.internal.argv.KvmRuntime;
import org.hvkit.kvm.internal.argv.PciSlots;
import org.hvkit.kvm.internal.caps.QemuFeature;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.runtime.PendingRemovals;
import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.NativeFd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Disk hotplug over QMP: Ganeti 3.0's {@code HotAddDevice} / {@code HotDelDevice} for disks
 * ({@code lib/hypervisor/hv_kvm/__init__.py}, {@code HotAddDisk}/{@code HotDelDisk} in
 * {@code lib/hypervisor/hv_kvm/monitor.py}). The QEMU of a running instance has dropped to a
 * pool uid and cannot open a root-owned image, so this node opens it (read-write, {@code O_DIRECT}
 * where the cache mode bypasses the host cache, as QEMU ≥ 9 requires of a passed descriptor),
 * hands the descriptor over the kept QMP connection with {@code add-fd} ({@code SCM_RIGHTS}, a new
 * fdset), adds a raw block node on {@code /dev/fdset/N} with {@code blockdev-add} (the cache, aio,
 * discard and {@code auto-read-only=off} of a disk at start), and plugs {@code virtio-blk-pci} at
 * the lowest free PCI slot ({@link PciSlots}). The fdset's own descriptor is removed at once
 * ({@code remove-fd}, as Ganeti does): the block node holds QEMU's duplicate, and closing the
 * node frees the fdset. The saved runtime is regenerated with the disk in the instance's
 * definition and its slot in the layout, so a reboot puts it on the command line at the same
 * slot and a migration target renders it too.
 *
 * <p>Removal finds the device by its slot ({@code query-pci}), asks the guest to let go
 * ({@code device_del}), waits (bounded) until it has left the bus, deletes the block node of a
 * hot-added disk ({@code blockdev-del}; a {@code -drive} of the command line goes with its device)
 * and regenerates the runtime without the disk. Every step of an add is undone when a later one
 * fails; every check runs before QEMU is touched. Everything runs under the instance's lock.
 *
 * <p>A disk is known by its {@code devPath} (the SPI's identity). Only {@code disk_type}
 * paravirtual disks have a PCI slot of their own and can be hot-plugged; the rules of a start
 * apply to the path (absolute and normalized, a block device or a regular image file) and to the
 * mode (read-write only: Ganeti's KVM refuses read-only disks). Device ids: {@code hotdisk<slot>}
 * (block node) and {@code virtio-hotdisk<slot>} (device) until the next start, when the disk
 * becomes {@code disk<i>} of the command line.
 */
final class KvmDiskHotplug {

    private static final Logger LOG = LoggerFactory.getLogger(KvmDiskHotplug.class);
    /** QMP commands a disk hotplug needs (QEMU 7.2 has them all; each is checked in the binary's facts). */
    static final List<String> COMMANDS = List.of("add-fd", "remove-fd", "blockdev-add", "blockdev-del", "device_add",
            "device_del", "query-pci", "qom-get", "query-block");
    private static final String DEVICE_MODEL = "virtio-blk-pci";
    /** The prefix of the block nodes hot-adds create; removal deletes only nodes it created. */
    static final String NODE_PREFIX = "hotdisk";
    /** How long QEMU gets to let go of a block node after its device left the bus. */
    static final java.time.Duration NODE_RELEASE_WAIT = java.time.Duration.ofSeconds(5);

    private final KvmInstances core;
    private final KvmHotplug hotplug;

    KvmDiskHotplug(KvmInstances core, KvmHotplug hotplug) {
        this.core = core;
        this.hotplug = hotplug;
        hotplug.finisher(PendingRemovals.DISK, this::removeDisk);
    }

    /** How a disk is opened: Ganeti's {@code GetCacheSettings} for the effective cache mode. */
    record CacheSettings(String mode, boolean writeback, boolean direct, boolean noFlush) {

        /** The cache mode a start gives the disks ({@code none} forced on shared storage, as DriveArgs). */
        static CacheSettings of(Map<String, Object> hv, String diskTemplate) {
            String mode = KvmArgvBuilder.CACHE_NONE_TEMPLATES.contains(diskTemplate) ? "none"
                    : KvmParameters.str(hv, KvmParameters.DISK_CACHE);
            return switch (mode) {
                case "none" -> new CacheSettings(mode, true, true, false);
                case "writethrough" -> new CacheSettings(mode, false, false, false);
                case "directsync" -> new CacheSettings(mode, false, true, false);
                case "unsafe" -> new CacheSettings(mode, true, false, true);
                default -> new CacheSettings(mode, true, false, false); // default, writeback: QEMU's writeback
            };
        }
    }

    // ------------------------------------------------------------------ add

    void addDisk(String name, Disk disk) throws HypervisorException {
        String fail = "Cannot hot-add disk " + shown(disk.devPath()) + " to instance " + name + ": ";
        checkPath(disk, fail);
        try (KvmInstances.Operation op = core.begin(name, "hot-add a disk")) {
            KvmHotplug.Live l = hotplug.live(name, "hot-add a disk", COMMANDS, QemuFeature.AUTO_READ_ONLY);
            Instance def = definition(l, fail);
            if (l.caps().qmp() == null) {
                throw new HypervisorException(fail + "this QEMU " + l.caps().versionText() + " did not answer the QMP"
                        + " probe, so whether it has add-fd, blockdev-add and " + DEVICE_MODEL + " is not known");
            }
            if (!l.caps().qmp().devices().contains(DEVICE_MODEL)) {
                throw new HypervisorException(fail + "this QEMU " + l.caps().versionText() + " has no " + DEVICE_MODEL);
            }
            if (!KvmParameters.paravirtual(l.up(), KvmParameters.DISK_TYPE)) {
                throw new HypervisorException(fail + "its disks are disk_type " + KvmParameters.str(l.up(),
                        KvmParameters.DISK_TYPE) + "; only paravirtual (virtio) disks have a PCI slot of their own and"
                        + " can be hot-plugged");
            }
            // a disk of the host's, of this instance's already or of another running instance's
            // (the same device or file under any name, links followed, or one inside the other)
            StartChecks.Identity id = core.diskChecks().checkAdded(def, disk, "dev_path " + shown(disk.devPath()),
                    core.paths().root(), core.settings().hostDisks(), fail, core.states().runningDefinitions(name));

            int index = def.disks().size();
            PciSlots slots = hotplug.restore(l);
            int slot = slots.allocate("disk" + index);
            List<Disk> disks = new ArrayList<>(def.disks());
            disks.add(disk);
            // the runtime after the add, rendered before QEMU is touched: a definition that cannot
            // be rendered (an aio or discard mode this QEMU lacks …) is refused with nothing changed
            KvmRuntime updated = rendered(l, def, disks, slots.assigned(), fail);
            if (!Integer.valueOf(slot).equals(updated.layout().pciSlots().get("disk" + index))) {
                throw new HypervisorException(fail + "its command line gives the disk no PCI slot of its own"
                        + " (disk_type " + KvmParameters.str(l.up(), KvmParameters.DISK_TYPE) + " with boot=on)");
            }

            CacheSettings cache = CacheSettings.of(l.up(), def.diskTemplate());
            String node = NODE_PREFIX + slot;
            String dev = "virtio-" + node;
            Undo undo = new Undo(l);
            try {
                Passed passed = addFd(l, disk, cache, node, fail);
                undo.fdset = passed.fdset();
                hotplug.command(l, "blockdev-add", blockdev(l.up(), passed.blockDevice(), cache, node,
                        passed.fdset()), fail);
                undo.node = node;
                Map<String, Object> device = new LinkedHashMap<>();
                device.put("driver", DEVICE_MODEL);
                device.put("id", dev);
                device.put("drive", node);
                device.put("addr", PciSlots.addr(slot));
                device.put("write-cache", cache.writeback() ? "on" : "off");
                hotplug.command(l, "device_add", device, fail);
                undo.device = dev;
                undo.slot = slot;
                // the block node holds its duplicate: the fdset's own descriptor can go (Ganeti's
                // _RemoveFdset); the fdset is freed when the node closes
                undo.removeFdset();
                core.store().save(name, updated, def.toBuilder().disks(disks).build());
                undo.done();
                core.diskChecks().keep(name, l.process().pid(), List.of(disk), java.util.Arrays.asList(id));
            } catch (HypervisorException | RuntimeException e) {
                undo.run(e);
                throw e instanceof HypervisorException h && h.getMessage().startsWith(fail) ? h
                        : new HypervisorException(fail + e.getMessage(), e);
            }
            LOG.info("Instance {}: disk {} hot-added at PCI slot {} (cache {})", name, disk.devPath(),
                    PciSlots.addr(slot), cache.mode());
            published(InstanceEvents.DEVICE_ADDED, l, "hot-add", disk.devPath());
        }
    }

    /** The path rules of a start, before anything is looked at. */
    private static void checkPath(Disk disk, String fail) throws HypervisorException {
        if (!ParameterCheck.isAbsoluteNormalizedPath(disk.devPath())) {
            throw new HypervisorException(fail + "dev_path must be an absolute normalized path (no '.', '..' or '//')");
        }
        if (disk.mode() != DiskMode.RW) {
            throw new HypervisorException(fail + "mode " + disk.mode().ganetiName() + ": the instance would have"
                    + " read-only disks, which are not supported by KVM (a start refuses them too); use mode rw");
        }
    }

    /** An image handed to QEMU: its fdset, and whether what was opened is a block device. */
    private record Passed(int fdset, boolean blockDevice) {
    }

    /**
     * Opens the image, checks what was opened (the path may have been swapped since it was
     * checked) and hands it to QEMU as a new fdset.
     */
    private Passed addFd(KvmHotplug.Live l, Disk disk, CacheSettings cache, String node, String fail)
            throws HypervisorException {
        try (NativeFd fd = NativeFd.open(Path.of(disk.devPath()), true, cache.direct())) {
            String opened = "/proc/self/fd/" + fd.fd();
            StartChecks.disk(new Disk(opened, DiskMode.RW, 0), fail, "dev_path " + shown(disk.devPath())
                    + " (as opened)", core.paths().root(), core.settings().hostDisks());
            boolean block = StartChecks.blockDevice(opened);
            JsonNode r = core.onMonitor(l.name(), l.process().pid(), qmp -> qmp.execute("add-fd",
                    Map.of("opaque", "hvkit " + node), List.of(fd)));
            JsonNode id = r.path("fdset-id");
            if (!id.canConvertToInt() || id.asInt() < 0) {
                throw new HypervisorException(fail + "add-fd answered no fdset: " + r);
            }
            return new Passed(id.asInt(), block);
        } catch (NativeException e) {
            throw new HypervisorException(fail + "cannot open it" + (cache.direct() ? " with O_DIRECT (disk_cache "
                    + cache.mode() + ")" : "") + ": " + e.getMessage(), e);
        } catch (org.hvkit.kvm.internal.monitor.QmpException e) {
            throw new HypervisorException(fail + "add-fd failed: " + e.getMessage(), e);
        }
    }

    /** Ganeti's {@code _GenerateKVMBlockDevice} on the fdset, with the options of a disk at start. */
    static Map<String, Object> blockdev(Map<String, Object> up, boolean blockDevice, CacheSettings cache, String node,
                                        int fdset) {
        Map<String, Object> file = new LinkedHashMap<>();
        file.put("driver", blockDevice ? "host_device" : "file");
        file.put("filename", "/dev/fdset/" + fdset);
        String aio = KvmParameters.str(up, KvmParameters.DISK_AIO);
        if ("native".equals(aio) || "io_uring".equals(aio)) {
            file.put("aio", aio);
        }
        Map<String, Object> raw = new LinkedHashMap<>();
        raw.put("driver", "raw");
        raw.put("node-name", node);
        raw.put("read-only", false);
        for (Map<String, Object> n : List.of(raw, file)) {
            // the same auto-read-only=off as -drive at start (Ganeti: QEMU 4.0's dynamic
            // auto-read-only breaks migrations under security_model=user|pool)
            n.put("auto-read-only", false);
            String discard = KvmParameters.str(up, KvmParameters.DISK_DISCARD);
            if (!discard.isEmpty() && !"default".equals(discard)) {
                n.put("discard", discard);
            }
            n.put("cache", Map.of("direct", cache.direct(), "no-flush", cache.noFlush()));
        }
        raw.put("file", file);
        return raw;
    }

    // ------------------------------------------------------------------ remove

    void removeDisk(String name, String devPath) throws HypervisorException {
        removeDisk(name, devPath, null);
    }

    /**
     * The removal; with {@code expected}, the finishing of that pending removal only (see
     * {@link KvmHotplug}): nothing happens unless it is still the pending removal of the disk's slot.
     */
    private void removeDisk(String name, String devPath, KvmHotplug.Pending expected) throws HypervisorException {
        String fail = "Cannot hot-remove disk " + shown(devPath) + " from instance " + name + ": ";
        try (KvmInstances.Operation op = core.begin(name, "hot-remove a disk")) {
            KvmHotplug.Live l = hotplug.live(name, "hot-remove a disk", COMMANDS);
            Instance def = definition(l, fail);
            int index = -1;
            for (int i = 0; i < def.disks().size(); i++) {
                if (def.disks().get(i).devPath().equals(devPath)) {
                    index = i;
                }
            }
            if (index < 0 && expected != null) {
                return; // finished meanwhile
            }
            if (index < 0) {
                List<String> paths = def.disks().stream().map(Disk::devPath).toList();
                throw new HypervisorException(fail + "the instance has no disk with this dev_path; its disks: "
                        + (paths.isEmpty() ? "none" : String.join(", ", paths)));
            }
            PciSlots slots = hotplug.restore(l);
            int slot = slots.slotOf("disk" + index).orElseThrow(() -> new HypervisorException(fail
                    + "it has no PCI slot of its own (disk_type " + KvmParameters.str(l.up(), KvmParameters.DISK_TYPE)
                    + ") and cannot be unplugged"));
            List<Disk> disks = new ArrayList<>(def.disks());
            disks.remove(index);
            KvmRuntime updated = rendered(l, def, disks, KvmHotplug.without(slots.assigned(), "disk", index), fail);
            KvmHotplug.Released r = hotplug.release(l, slot, expected, fail, "the disk", dev -> driveOf(l, dev, fail),
                    PendingRemovals.DISK, devPath);
            if (r == null) {
                return; // finished meanwhile, or another removal is pending there now
            }
            String node = r.backend();
            // the guest has let go: the files follow at once, whatever happens to the node
            core.store().save(name, updated, def.toBuilder().disks(disks).build());
            LOG.info("Instance {}: disk {} (PCI slot {}) hot-removed", name, devPath, PciSlots.addr(slot));
            published(InstanceEvents.DEVICE_REMOVED, l, "hot-remove", devPath);
            String stillOpen = "The guest of instance " + name + " released disk " + shown(devPath)
                    + " and the instance no longer has it, but QEMU still holds it open (" + node
                    + "; it goes with this QEMU): ";
            if (node.startsWith(NODE_PREFIX)) {
                // a hot-added node outlives its device
                deleteNode(l, node, stillOpen);
            } else {
                // a -drive of the command line goes when QEMU finalizes its device
                awaitDriveGone(l, node, stillOpen);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** The drive (a {@code -drive} id or a node name) of device {@code dev}, checked as QEMU's answer. */
    private String driveOf(KvmHotplug.Live l, String dev, String fail) throws HypervisorException {
        JsonNode v;
        try {
            v = core.onMonitor(l.name(), l.process().pid(), qmp -> qmp.execute("qom-get",
                    Map.of("path", "/machine/peripheral/" + dev, "property", "drive")));
        } catch (org.hvkit.kvm.internal.monitor.QmpException e) {
            throw new HypervisorException(fail + "device " + dev + " at its slot is no disk: " + e.getMessage(), e);
        }
        String drive = v.asText("");
        if (!drive.matches("[A-Za-z][A-Za-z0-9_.-]{0,63}")) {
            throw new HypervisorException(fail + "device " + dev + " names no drive of its own (" + v + ")");
        }
        return drive;
    }


    /** Waits (at most {@link #NODE_RELEASE_WAIT}) until {@code query-block} no longer lists the drive {@code id}. */
    private void awaitDriveGone(KvmHotplug.Live l, String id, String fail) throws HypervisorException {
        long deadline = System.nanoTime() + NODE_RELEASE_WAIT.toNanos();
        while (true) {
            JsonNode block = core.onMonitor(l.name(), l.process().pid(), qmp -> qmp.execute("query-block", Map.of()));
            boolean listed = false;
            for (JsonNode b : block) {
                listed |= id.equals(b.path("device").asText(""));
            }
            if (!listed) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new HypervisorException(fail + "drive " + id + " is still listed after "
                        + NODE_RELEASE_WAIT.toSeconds() + " s");
            }
            pause(fail, id);
        }
    }

    private static void pause(String fail, String what) throws HypervisorException {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HypervisorException(fail + "interrupted while waiting for QEMU to release " + what, e);
        }
    }

    /**
     * {@code blockdev-del} of a hot-added node whose device the guest released. The device leaves
     * the bus ({@code query-pci}) before QEMU finalizes it and lets go of the node (the
     * {@code DEVICE_DELETED} event comes only then), so "in use" is retried for up to
     * {@link #NODE_RELEASE_WAIT}.
     */
    private void deleteNode(KvmHotplug.Live l, String node, String fail) throws HypervisorException {
        long deadline = System.nanoTime() + NODE_RELEASE_WAIT.toNanos();
        while (true) {
            try {
                core.onMonitor(l.name(), l.process().pid(), qmp -> qmp.execute("blockdev-del",
                        Map.of("node-name", node)));
                return;
            } catch (org.hvkit.kvm.internal.monitor.QmpException e) {
                if (!String.valueOf(e.getMessage()).contains("in use") || System.nanoTime() > deadline) {
                    throw new HypervisorException(fail + "blockdev-del failed: " + e.getMessage(), e);
                }
            }
            pause(fail, node);
        }
    }


    /** The saved definition: the runtime is rendered from it, so one without it cannot take a disk. */
    private static Instance definition(KvmHotplug.Live l, String fail) throws HypervisorException {
        return l.saved().instance().orElseThrow(() -> new HypervisorException(fail + "its saved runtime has no"
                + " instance definition (written by an older hvkit); stop and start it first"));
    }

    /**
     * The saved runtime with {@code disks} and {@code slots}, rendered as a start in the
     * runtime's device layout renders it. The command the guest runs with must come out of the
     * same rendering with the old definition, else the saved command cannot be reproduced (an
     * older hvkit, another QEMU) and replacing it would change more than the disk.
     */
    private KvmRuntime rendered(KvmHotplug.Live l, Instance def, List<Disk> disks, Map<String, Integer> slots,
                                String fail) throws HypervisorException {
        KvmRuntime r = l.runtime();
        KvmArgvBuilder builder = core.launcher().builder();
        Map<String, Object> hv = new LinkedHashMap<>(r.hvparams());
        try {
            KvmRuntime again = builder.generate(def, hv, l.caps(), r.layout()).runtime();
            if (!again.argv().equals(r.argv())) {
                throw new HypervisorException(fail + "its saved command line is not what this hvkit renders for it"
                        + " (started by another hvkit or QEMU version); stop and start it first");
            }
            KvmRuntime updated = builder.generate(def.toBuilder().disks(disks).build(), hv, l.caps(),
                    new DeviceLayout(r.layout().version(), slots)).runtime();
            return new KvmRuntime(updated.argv(), r.nics(), r.hvparams(), updated.layout());
        } catch (HypervisorException e) {
            throw e.getMessage().startsWith(fail) ? e : new HypervisorException(fail + e.getMessage(), e);
        }
    }

    private void published(String topic, KvmHotplug.Live l, String reason, String devPath) {
        core.events().device(topic, l.name(), l.process().pid(), reason, Map.of(InstanceEvents.DEVICE, "disk",
                InstanceEvents.PATH, devPath));
    }

    /** A path for a message: bounded, control characters replaced. */
    static String shown(String path) {
        String p = path == null ? "" : path.length() > 200 ? path.substring(0, 200) + "…" : path;
        return p.replaceAll("\\p{Cntrl}", "?");
    }

    /** What an unfinished hot-add has done to QEMU, undone in reverse order. */
    private final class Undo {
        private final KvmHotplug.Live l;
        Integer fdset;
        String node;
        String device;
        int slot;
        boolean finished;

        Undo(KvmHotplug.Live l) {
            this.l = l;
        }

        void done() {
            finished = true;
        }

        /** Drops the fdset's own descriptor (its node keeps the duplicate QEMU opened). */
        void removeFdset() throws HypervisorException {
            Integer id = fdset;
            fdset = null;
            hotplug.command(l, "remove-fd", Map.of("fdset-id", id), "Cannot release fdset " + id + " of instance "
                    + l.name() + ": ");
        }

        void run(Exception cause) {
            if (finished) {
                return;
            }
            if (device != null) {
                // the guest must let go before the node can be deleted (blockdev-del refuses a node in use)
                try {
                    quietly(cause, "device_del", Map.of("id", device));
                    hotplug.awaitGone(l, slot, device, "Undoing the hot-add of " + device + ": ", "the disk", null);
                } catch (HypervisorException e) {
                    cause.addSuppressed(e);
                }
            }
            if (node != null) {
                try {
                    deleteNode(l, node, "Undoing the hot-add of " + node + ": ");
                } catch (HypervisorException | RuntimeException e) {
                    LOG.warn("Undoing a disk hot-add on {}: blockdev-del failed: {}", l.name(), e.getMessage());
                    cause.addSuppressed(e);
                }
            }
            if (fdset != null) {
                quietly(cause, "remove-fd", Map.of("fdset-id", fdset));
            }
        }

        private void quietly(Exception cause, String command, Map<String, ?> args) {
            try {
                core.onMonitor(l.name(), l.process().pid(), qmp -> qmp.execute(command, args));
            } catch (HypervisorException | RuntimeException e) {
                LOG.warn("Undoing a disk hot-add on {}: {} failed: {}", l.name(), command, e.getMessage());
                cause.addSuppressed(e);
            }
        }
    }
}
