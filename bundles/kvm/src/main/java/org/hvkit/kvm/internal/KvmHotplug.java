package org.hvkit.kvm.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceEvents;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.kvm.internal.argv.DeviceLayout;
import org.hvkit.kvm.internal.argv.KvmRuntime;
import org.hvkit.kvm.internal.argv.NicArgs;
import org.hvkit.kvm.internal.argv.PciSlots;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.caps.QemuFeature;
import org.hvkit.kvm.internal.monitor.QmpException;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.process.QemuProcess;
import org.hvkit.kvm.internal.runtime.PendingRemovals;
import org.hvkit.kvm.internal.runtime.RuntimeStore;
import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.NativeFd;
import org.hvkit.netdev.Tap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NIC hotplug over QMP: Ganeti's {@code HotAddDevice} / {@code HotDelDevice} / {@code HotModDevice}
 * for NICs and {@code HotplugSupported} ({@code lib/hypervisor/hv_kvm/__init__.py}). A hot-added
 * NIC gets a tap this node opens (vnet_hdr and queues as at start), handed to the running QEMU
 * with {@code getfd} over {@code SCM_RIGHTS}, then {@code netdev_add} and {@code device_add} at
 * the lowest free PCI slot above {@code kvm_pci_reservations} ({@link PciSlots}); the tap is
 * configured like a NIC at start, and the nic files and the saved runtime (NIC list and slots)
 * are rewritten, so a reboot and a migration give the guest the same NIC at the same address.
 * Hot-removal asks the guest to let go ({@code device_del}), waits (bounded) until the device
 * has left the bus, drops the backend ({@code netdev_del}, which closes the tap) and rewrites
 * the files. Every step is undone when a later one fails. Everything runs under the instance's
 * lock; the instance must have been started with device layout 2 (explicit slots).
 *
 * <p>Device ids: NICs of the command line are {@code nic<i>}/{@code netdev<i>} (their index);
 * hot-added ones {@code hotnic<slot>}/{@code hotnet<slot>} — a slot is never held by two present
 * devices, so these never clash with the ids of NICs that moved down the list after a removal.
 * Removal finds the device by its slot ({@code query-pci}), whatever its id.
 *
 * <p>A guest that lets go after the bounded wait (a busy or slow guest) used to leave the
 * backend, the tap and the files behind, and a second removal refused (no device at the slot).
 * Such a removal is now <em>pending</em>: when QEMU reports the device deleted
 * ({@code DEVICE_DELETED}, read by the connection watcher) the removal is finished on another
 * thread under the instance's lock, as libvirt finishes a device removal on that event; a
 * second {@code hv:nic-remove}/{@code hv:disk-remove} finishes it too. A pending removal
 * concerns one QEMU process: a stop ends it. Pending removals are written to the runtime
 * directory ({@link PendingRemovals}): a component that takes the node over (a bundle update, a
 * JVM restart, or this one closing while it waits) {@link #resume resumes} them, and finishes at
 * once those whose guest let go while nobody listened.
 */
final class KvmHotplug {

    private static final Logger LOG = LoggerFactory.getLogger(KvmHotplug.class);
    /** How long a guest gets to release a device after {@code device_del} (ACPI eject). */
    static final Duration RELEASE_WAIT = Duration.ofSeconds(15);
    private static final Duration POLL = Duration.ofMillis(100);

    private final KvmInstances core;
    private final KvmSettings settings;
    /** The bound of the wait for a guest's release ({@link #RELEASE_WAIT}; tests shorten it). */
    private volatile Duration releaseWait = RELEASE_WAIT;
    /** Removals asked for whose guest had not let go in time, by instance name and device id. */
    private final Map<String, Pending> pending = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A removal waiting for its guest: the QEMU process, the device's PCI slot and id, its
     * backend (netdev or block node), how to finish it (the removal called again with this
     * record, which does nothing unless it is still the slot's pending removal) and whether a
     * finisher runs now (one at a time, however often QEMU repeats its event).
     */
    record Pending(long pid, PendingRemovals.Removal removal, java.util.concurrent.atomic.AtomicBoolean running) {
        Pending(long pid, PendingRemovals.Removal removal) {
            this(pid, removal, new java.util.concurrent.atomic.AtomicBoolean());
        }

        int slot() {
            return removal.slot();
        }

        String device() {
            return removal.device();
        }

        String backend() {
            return removal.backend();
        }
    }

    /**
     * Finishes a pending removal of one kind ({@link PendingRemovals#NIC}, {@link PendingRemovals#DISK}):
     * the removal of {@code key} itself, called again with the record it expects.
     */
    @FunctionalInterface
    interface Finisher {
        void run(String name, String key, Pending expected) throws HypervisorException;
    }

    private final Map<String, Finisher> finishers = new java.util.concurrent.ConcurrentHashMap<>();
    private final PendingRemovals files;

    KvmHotplug(KvmInstances core, KvmSettings settings) {
        this.core = core;
        this.settings = settings;
        this.files = new PendingRemovals(core.paths());
        finishers.put(PendingRemovals.NIC, this::removeNic);
        core.events().onDeviceDeleted(this::deviceDeleted);
    }

    /** How the pending removals of {@code kind} are finished (the disk hotplug registers its own). */
    void finisher(String kind, Finisher finisher) {
        finishers.put(kind, finisher);
    }

    /**
     * Takes over the pending removals an earlier component wrote (call once every kind's
     * finisher is registered): those of a QEMU process that still runs, whose NIC or disk the
     * saved runtime has at that slot, are pending again; then, on another thread, one whose
     * device id QEMU shows at another slot, or whose slot holds another device, is dropped as
     * damaged, and each whose device has left the bus meanwhile — its {@code DEVICE_DELETED}
     * went unheard — is finished. Files of processes that are gone are left to the cleanup,
     * which removes them with the instance's other resources.
     */
    void resume() {
        List<Pending> resumed = new ArrayList<>();
        List<String> owners = new ArrayList<>();
        for (String name : core.store().knownNames()) {
            try {
                var saved = files.load(name);
                long pid = core.alive(name).map(QemuProcess::pid).orElse(-1L);
                if (saved.isEmpty() || saved.get().pid() != pid) {
                    continue;
                }
                var runtime = core.store().load(name).orElseThrow(() -> new HypervisorException("it has no runtime file"));
                int taken = 0;
                for (PendingRemovals.Removal r : saved.get().removals()) {
                    String why = mismatch(runtime, r);
                    if (why != null) {
                        LOG.warn("Instance {}: the pending removal of device {} is not taken over: {}", name,
                                r.device(), why);
                        continue;
                    }
                    Pending p = new Pending(pid, r);
                    pending.put(name + "/" + r.device(), p);
                    resumed.add(p);
                    owners.add(name);
                    taken++;
                }
                LOG.info("Instance {}: {} hot-removal(s) waiting for the guest taken over", name, taken);
            } catch (HypervisorException e) {
                LOG.warn("Instance {}: its pending hot-removals are not taken over: {} (a stop or another hot-remove"
                        + " of the device ends them)", name, e.getMessage());
            }
        }
        if (resumed.isEmpty()) {
            return;
        }
        Thread t = new Thread(() -> {
            for (int i = 0; i < resumed.size(); i++) {
                Pending p = resumed.get(i);
                String name = owners.get(i);
                try {
                    JsonNode buses = core.onMonitor(name, p.pid(), qmp -> qmp.execute("query-pci", Map.of()));
                    String at = idAt(buses, p.slot());
                    Integer elsewhere = slotOf(buses, p.device());
                    if (elsewhere != null && elsewhere != p.slot() || at != null && !at.equals(p.device())) {
                        LOG.warn("Instance {}: the pending removal of device {} at slot {} is dropped: QEMU has {} at"
                                + " that slot{}", name, p.device(), p.slot(), at == null ? "nothing" : at,
                                elsewhere == null ? "" : " and the device at slot " + elsewhere);
                        pending.remove(name + "/" + p.device(), p);
                    } else if (at == null) {
                        deviceDeleted(name, p.pid(), p.device());
                    }
                } catch (HypervisorException | RuntimeException e) {
                    LOG.warn("Instance {}: whether device {} has left the bus is not known ({}); QEMU's event or"
                            + " another hot-remove finishes its removal", name, p.device(), e.getMessage());
                }
            }
        }, "hvkit-kvm-resume-removals");
        t.setDaemon(true);
        t.start();
    }

    void releaseWait(Duration wait) {
        this.releaseWait = wait;
    }

    /**
     * The pending removal of {@code device} for instance {@code name}'s QEMU {@code pid}, or null;
     * one of another process (the instance was stopped since) is forgotten.
     */
    Pending pending(String name, long pid, String device) {
        Pending p = pending.get(name + "/" + device);
        if (p != null && p.pid() != pid) {
            pending.remove(name + "/" + device, p);
            return null;
        }
        return p;
    }

    /**
     * Makes {@code p} pending, in memory and in the instance's file; those of processes that no
     * longer run go (the map holds live ones only). Caller holds the instance's lock.
     */
    void pend(String name, Pending p) {
        pending.entrySet().removeIf(e -> {
            String owner = e.getKey().substring(0, e.getKey().indexOf('/'));
            return core.alive(owner).map(q -> q.pid() != e.getValue().pid()).orElse(true);
        });
        pending.put(name + "/" + p.device(), p);
        persist(name, p.pid());
    }

    /** The removal of {@code device} is no longer pending. Caller holds the instance's lock. */
    void done(String name, String device) {
        Pending p = pending.remove(name + "/" + device);
        if (p != null) {
            persist(name, p.pid());
        }
    }

    /** Writes {@code name}'s pending removals of QEMU {@code pid}; when that fails, they stay pending in memory. */
    private void persist(String name, long pid) {
        List<PendingRemovals.Removal> mine = new ArrayList<>();
        pending.forEach((k, p) -> {
            if (k.startsWith(name + "/") && p.pid() == pid) {
                mine.add(p.removal());
            }
        });
        try {
            files.save(name, pid, mine);
        } catch (HypervisorException e) {
            LOG.warn("Instance {}: {}; a component that takes the node over will not finish these removals", name,
                    e.getMessage());
        }
    }

    /**
     * QEMU's {@code DEVICE_DELETED}: a pending removal of that device is finished on another
     * thread (this one reads QMP and must not wait), one finisher per removal at a time.
     */
    private void deviceDeleted(String name, long pid, String device) {
        Pending p = pending(name, pid, device);
        if (p == null || !p.running().compareAndSet(false, true)) {
            return;
        }
        Thread t = new Thread(() -> {
            try {
                finishers.get(p.removal().kind()).run(name, p.removal().key(), p);
            } catch (HypervisorException | RuntimeException e) {
                LOG.warn("Instance {}: finishing the removal of device {} after the guest released it failed: {}"
                        + " (another hot-remove of it finishes it)", name, device, e.getMessage());
            } finally {
                p.running().set(false);
            }
        }, "hvkit-kvm-late-release-" + name);
        t.setDaemon(true);
        t.start();
    }

    /** What an operation works on: the running QEMU, its saved runtime and the binary's capabilities. */
    record Live(String name, QemuProcess process, RuntimeStore.Saved saved, Instance instance,
                        QemuCapabilities caps, Map<String, Object> up) {
        KvmRuntime runtime() {
            return saved.runtime();
        }
    }

    /** Ganeti's {@code HotplugSupported}: throws, saying why, when {@code name} cannot take hotplug now. */
    void checkSupport(String name) throws HypervisorException {
        try (KvmInstances.Operation op = core.begin(name, "check hotplug of")) {
            live(name, "hotplug");
        }
    }

    /** QMP commands a NIC hotplug needs. */
    private static final List<String> NIC_COMMANDS = List.of("getfd", "netdev_add", "device_add", "device_del",
            "netdev_del", "query-pci");

    private Live live(String name, String what) throws HypervisorException {
        return live(name, what, NIC_COMMANDS, QemuFeature.NETDEV);
    }

    /**
     * The running instance {@code name} when it can take a hotplug: alive, with a saved runtime of
     * device layout 2, and a binary with QMP, {@code -device}, {@code features} and the QMP
     * {@code commands}; else an error saying what is missing.
     */
    Live live(String name, String what, List<String> commands, QemuFeature... features) throws HypervisorException {
        QemuProcess p = core.alive(name).orElseThrow(() -> new HypervisorException("Cannot " + what + " on instance "
                + name + ": not running"));
        RuntimeStore.Saved saved = core.store().load(name).orElseThrow(() -> new HypervisorException("Cannot " + what
                + " on instance " + name + ": no saved runtime (" + core.paths().runtimeFile(name) + ")"));
        // the binary this instance runs (its kvm_path may name another allowed QEMU than the node's)
        QemuCapabilities caps = core.capabilities().of(core.launcher().builder().binary(saved.runtime()));
        List<QemuFeature> needed = new ArrayList<>(List.of(QemuFeature.QMP, QemuFeature.DEVICE));
        needed.addAll(List.of(features));
        for (QemuFeature f : needed) {
            if (!caps.has(f)) {
                throw new HypervisorException("Cannot " + what + " on instance " + name + ": this QEMU "
                        + caps.versionText() + " has no " + f.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')
                        + " (this hotplug needs " + String.join(", ", needed.stream().map(n -> n.name()
                        .toLowerCase(java.util.Locale.ROOT).replace('_', '-')).toList()) + ")");
            }
        }
        if (caps.qmp() != null && !caps.qmp().commands().containsAll(commands)) {
            throw new HypervisorException("Cannot " + what + " on instance " + name + ": this QEMU " + caps.versionText()
                    + " lacks a QMP command hotplug needs (" + String.join(", ", commands) + ")");
        }
        DeviceLayout layout = saved.runtime().layout();
        if (!layout.slotted() || layout.pciSlots().isEmpty()) {
            throw new HypervisorException("Cannot " + what + " on instance " + name + ": it runs with device layout "
                    + layout.version() + " (started by an hvkit without explicit PCI slots); it gets layout "
                    + DeviceLayout.CURRENT + " at its next start (a stop and a start, not a reboot)");
        }
        Instance inst = saved.instance().orElse(Instance.builder(name).primaryNode(settings.node())
                .nics(saved.runtime().nics()).build());
        Map<String, Object> up = new LinkedHashMap<>(saved.runtime().hvparams());
        return new Live(name, p, saved, inst, caps, up);
    }

    // ------------------------------------------------------------------ add

    void addNic(String name, Nic nic) throws HypervisorException {
        try (KvmInstances.Operation op = core.begin(name, "hot-add a NIC")) {
            Live l = live(name, "hot-add a NIC");
            String fail = "Cannot hot-add NIC " + nic.mac() + " to instance " + name + ": ";
            checkNewNic(l, nic, fail);
            List<Nic> nics = l.runtime().nics();
            int index = nics.size();
            PciSlots slots = restore(l);
            int slot = slots.allocate("nic" + index);
            String dev = "hotnic" + slot;
            String net = "hotnet" + slot;
            int queues = NicArgs.queues(l.up(), l.caps());
            boolean vnetHdr = NicArgs.vnetHdr(l.up(), l.caps());
            List<Tap> taps;
            try {
                taps = core.launcher().openTaps(vnetHdr, queues);
            } catch (NativeException e) {
                throw new HypervisorException(fail + "opening a tap failed: " + e.getMessage(), e);
            }
            String tap = taps.get(0).name();
            Undo undo = new Undo(name, l.process().pid());
            try {
                List<String> fdNames = new ArrayList<>();
                for (int q = 0; q < taps.size(); q++) {
                    String fdName = net + "-q" + q;
                    Tap t = taps.get(q);
                    core.onMonitor(name, l.process().pid(), qmp -> qmp.execute("getfd", Map.of("fdname", fdName),
                            List.<NativeFd>of(t.fd())));
                    undo.fds.add(fdName);
                    fdNames.add(fdName);
                }
                Map<String, Object> netdev = new LinkedHashMap<>();
                netdev.put("type", "tap");
                netdev.put("id", net);
                if (fdNames.size() == 1) {
                    netdev.put("fd", fdNames.get(0));
                } else {
                    netdev.put("fds", String.join(":", fdNames));
                }
                if (KvmParameters.paravirtual(l.up(), KvmParameters.NIC_TYPE) && KvmParameters.bool(l.up(),
                        KvmParameters.VHOST_NET)) {
                    netdev.put("vhost", true);
                }
                command(l, "netdev_add", netdev, fail);
                undo.netdev = net;
                // QEMU owns its copies now (getfd dup'ed them and netdev_add took them over)
                undo.fds.clear();
                Map<String, Object> device = new LinkedHashMap<>();
                device.put("driver", KvmParameters.paravirtual(l.up(), KvmParameters.NIC_TYPE)
                        ? l.caps().paravirtualNicModel() : KvmParameters.str(l.up(), KvmParameters.NIC_TYPE));
                device.put("id", dev);
                device.put("netdev", net);
                device.put("mac", nic.mac());
                device.put("addr", PciSlots.addr(slot));
                if (queues > 1) {
                    device.put("mq", true);
                    device.put("vectors", 2 * queues + 2);
                }
                command(l, "device_add", device, fail);
                undo.device = dev;
                core.launcher().configureNic(l.instance(), index, nic, tap);
                // the files: the nic file of the new index, then the runtime (NIC list and slots)
                List<String> tapNames = tapNames(name, index);
                tapNames.add(tap);
                core.store().saveTaps(name, tapNames);
                undo.nicFile = index;
                List<Nic> newNics = new ArrayList<>(nics);
                newNics.add(nic);
                save(l, newNics, slots.assigned());
                undo.done();
                LOG.info("Instance {}: NIC {} hot-added on tap {} at PCI slot {}", name, nic.mac(), tap,
                        PciSlots.addr(slot));
                published(InstanceEvents.DEVICE_ADDED, l, "hot-add", nic);
            } catch (HypervisorException | RuntimeException e) {
                undo.run(e);
                throw e instanceof HypervisorException h && h.getMessage().startsWith(fail) ? h
                        : new HypervisorException(fail + e.getMessage(), e);
            } finally {
                taps.forEach(Tap::close);
            }
        }
    }

    /** MAC unique in the instance, and {@link #checkLink}. */
    private void checkNewNic(Live l, Nic nic, String fail) throws HypervisorException {
        for (Nic n : l.runtime().nics()) {
            if (n.mac().equals(nic.mac())) {
                throw new HypervisorException(fail + "the instance has a NIC with this MAC already");
            }
        }
        checkLink(nic, fail);
    }

    /** A bridge that exists for a bridged NIC, an IP for a routed one. */
    private void checkLink(Nic nic, String fail) throws HypervisorException {
        if (nic.mode() == NicMode.BRIDGED) {
            if (nic.link() == null || nic.link().isEmpty()) {
                throw new HypervisorException(fail + "a bridged NIC needs a link (the bridge)");
            }
            try {
                if (core.netlink().findLink(nic.link()).isEmpty()) {
                    throw new HypervisorException(fail + "bridge " + nic.link() + " does not exist on node "
                            + settings.node());
                }
            } catch (NativeException e) {
                throw new HypervisorException(fail + "cannot look up bridge " + nic.link() + ": " + e.getMessage(), e);
            }
        } else if (nic.ip() == null || nic.ip().isEmpty()) {
            throw new HypervisorException(fail + "a routed NIC needs an IP address");
        }
    }

    // ------------------------------------------------------------------ modify

    /**
     * Ganeti's {@code HotModDevice} for a NIC: the NIC with {@code nic}'s MAC keeps its tap and its
     * place in the guest; its host side moves to {@code nic}'s mode and link (and IP). The old
     * configuration is taken back first; when the new one fails, the old one is restored.
     */
    void modifyNic(String name, Nic nic) throws HypervisorException {
        try (KvmInstances.Operation op = core.begin(name, "modify a NIC of")) {
            Live l = live(name, "modify a NIC");
            String fail = "Cannot modify NIC " + nic.mac() + " of instance " + name + ": ";
            List<Nic> nics = l.runtime().nics();
            int index = indexOf(nics, nic.mac(), fail);
            Nic old = nics.get(index);
            if (old.equals(nic)) {
                return;
            }
            checkLink(nic, fail);
            String tap = core.store().tap(name, index);
            core.launcher().unconfigureNic(l.instance(), index, old, tap);
            try {
                core.launcher().configureNic(l.instance(), index, nic, tap);
            } catch (HypervisorException e) {
                try {
                    core.launcher().unconfigureNic(l.instance(), index, nic, tap);
                } catch (HypervisorException partial) {
                    e.addSuppressed(partial);
                }
                try {
                    core.launcher().configureNic(l.instance(), index, old, tap);
                } catch (HypervisorException restore) {
                    e.addSuppressed(restore);
                }
                throw new HypervisorException(fail + e.getMessage() + " (the NIC is back as it was: " + old.mode()
                        .ganetiName() + (old.link().isEmpty() ? "" : " " + old.link()) + ")", e);
            }
            List<Nic> newNics = new ArrayList<>(nics);
            newNics.set(index, nic);
            save(l, newNics, l.runtime().layout().pciSlots());
            LOG.info("Instance {}: NIC {} (tap {}) moved from {} {} to {} {}", name, nic.mac(), tap,
                    old.mode().ganetiName(), old.link(), nic.mode().ganetiName(), nic.link());
            published(InstanceEvents.DEVICE_MODIFIED, l, "hot-modify", nic);
        }
    }

    // ------------------------------------------------------------------ remove

    void removeNic(String name, String mac) throws HypervisorException {
        removeNic(name, mac, null);
    }

    /**
     * The removal; with {@code expected}, the finishing of that pending removal only: nothing
     * happens unless it is still the pending removal of the NIC's slot (a NIC added since with
     * the same MAC is not touched).
     */
    private void removeNic(String name, String mac, Pending expected) throws HypervisorException {
        try (KvmInstances.Operation op = core.begin(name, "hot-remove a NIC")) {
            Live l = live(name, "hot-remove a NIC");
            String fail = "Cannot hot-remove NIC " + mac + " from instance " + name + ": ";
            List<Nic> nics = l.runtime().nics();
            if (expected != null && nics.stream().noneMatch(n -> n.mac().equals(mac))) {
                return; // finished meanwhile
            }
            int index = indexOf(nics, mac, fail);
            PciSlots slots = restore(l);
            int slot = slots.slotOf("nic" + index).orElseThrow(() -> new HypervisorException(fail
                    + "it has no PCI slot of its own (an ISA NIC) and cannot be unplugged"));
            String tap = core.store().tap(name, index);
            Released r = release(l, slot, expected, fail, "the NIC", dev -> netdevOf(l, dev, fail),
                    PendingRemovals.NIC, mac);
            if (r == null) {
                return; // finished meanwhile, or another removal is pending there now
            }
            command(l, "netdev_del", Map.of("id", r.backend()), fail);
            // the files: NICs after this one move down one index (their slots go with them)
            List<Nic> newNics = new ArrayList<>(nics);
            newNics.remove(index);
            List<String> tapNames = tapNames(name, nics.size());
            tapNames.remove(index);
            core.store().replaceTaps(name, tapNames);
            save(l, newNics, without(slots.assigned(), "nic", index));
            LOG.info("Instance {}: NIC {} (tap {}, PCI slot {}) hot-removed", name, mac, tap, PciSlots.addr(slot));
            published(InstanceEvents.DEVICE_REMOVED, l, "hot-remove", nics.get(index));
        }
    }

    /**
     * {@code assigned} without device {@code prefix<index>}, the devices {@code prefix<i>} after it
     * moved down one index (the list they index lost one entry); their slots stay.
     */
    static Map<String, Integer> without(Map<String, Integer> assigned, String prefix, int index) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : assigned.entrySet()) {
            String key = e.getKey();
            String rest = key.startsWith(prefix) ? key.substring(prefix.length()) : "";
            if (!rest.isEmpty() && rest.chars().allMatch(Character::isDigit)) {
                int i = Integer.parseInt(rest);
                if (i == index) {
                    continue;
                }
                key = prefix + (i > index ? i - 1 : i);
            }
            out.put(key, e.getValue());
        }
        return out;
    }

    private static int indexOf(List<Nic> nics, String mac, String fail) throws HypervisorException {
        for (int i = 0; i < nics.size(); i++) {
            if (nics.get(i).mac().equals(mac)) {
                return i;
            }
        }
        List<String> macs = nics.stream().map(Nic::mac).toList();
        throw new HypervisorException(fail + "the instance has no NIC with this MAC; its NICs: "
                + (macs.isEmpty() ? "none" : String.join(", ", macs)));
    }

    /** The id of the device QEMU has at {@code slot} of bus 0 ({@code query-pci}). */
    String deviceAt(Live l, int slot, String fail) throws HypervisorException {
        JsonNode buses = core.onMonitor(l.name(), l.process().pid(), qmp -> qmp.execute("query-pci", Map.of()));
        String id = idAt(buses, slot);
        if (id == null) {
            throw new HypervisorException(fail + "QEMU has no device at PCI slot " + PciSlots.addr(slot)
                    + ", where the saved runtime says it is");
        }
        return id;
    }

    /**
     * Why {@code r} is not a removal of a device the saved runtime has: its NIC (by MAC) or
     * disk (by path) must be there, at slot {@code r.slot()}; null when it is.
     */
    private static String mismatch(RuntimeStore.Saved saved, PendingRemovals.Removal r) {
        List<String> keys = PendingRemovals.NIC.equals(r.kind())
                ? saved.runtime().nics().stream().map(Nic::mac).toList()
                : saved.instance().map(i -> i.disks().stream().map(org.hvkit.hypervisor.Disk::devPath).toList())
                        .orElse(List.of());
        int index = keys.indexOf(r.key());
        if (index < 0) {
            return "the instance has no " + r.kind() + " " + r.key();
        }
        Integer slot = saved.runtime().layout().pciSlots().get(r.kind() + index);
        return Integer.valueOf(r.slot()).equals(slot) ? null
                : "its " + r.kind() + " " + r.key() + " is at slot " + slot + ", not " + r.slot();
    }

    /** The slot of the device with id {@code id} on bus 0, or null. */
    static Integer slotOf(JsonNode buses, String id) {
        for (JsonNode bus : buses) {
            if (bus.path("bus").asInt(-1) != 0) {
                continue;
            }
            for (JsonNode d : bus.path("devices")) {
                if (id.equals(d.path("qdev_id").asText(""))) {
                    return d.path("slot").asInt(-1);
                }
            }
        }
        return null;
    }

    /** The qdev id of the device at {@code slot} on bus 0 in a {@code query-pci} answer, null when there is none. */
    static String idAt(JsonNode buses, int slot) {
        for (JsonNode bus : buses) {
            if (bus.path("bus").asInt(-1) != 0) {
                continue;
            }
            for (JsonNode d : bus.path("devices")) {
                if (d.path("slot").asInt(-1) == slot && d.path("function").asInt(0) == 0) {
                    String id = d.path("qdev_id").asText("");
                    return id.isEmpty() ? null : id;
                }
            }
        }
        return null;
    }

    private String netdevOf(Live l, String dev, String fail) throws HypervisorException {
        JsonNode v = core.onMonitor(l.name(), l.process().pid(), qmp -> qmp.execute("qom-get",
                Map.of("path", "/machine/peripheral/" + dev, "property", "netdev")));
        String net = v.asText("");
        if (!net.matches("[A-Za-z][A-Za-z0-9_.-]{0,63}")) {
            throw new HypervisorException(fail + "device " + dev + " names no network backend (" + v + ")");
        }
        return net;
    }

    /** A device the guest has let go of: its id and its backend (netdev or block node). */
    record Released(String device, String backend) {
    }

    /** The backend of a device (asked of QEMU before it goes). */
    @FunctionalInterface
    interface BackendOf {
        String of(String device) throws HypervisorException;
    }

    /**
     * The release of the device at {@code slot}, the step NIC and disk removals share: unless a
     * removal is pending there, its backend is noted and the guest is asked ({@code device_del});
     * then a bounded wait until the device has left the bus — past the bound the removal is
     * pending, finished by {@code finish}. With {@code expected} (a finisher's call) nothing is
     * done, and null returned, unless it is still the slot's pending removal.
     */
    Released release(Live l, int slot, Pending expected, String fail, String what, BackendOf backendOf,
                     String kind, String key) throws HypervisorException {
        Pending late = pendingAt(l, slot);
        if (expected != null && late != expected) {
            return null;
        }
        Released r;
        if (late != null) {
            // asked before; the guest let go since (or lets go now). A caller's removal asks the
            // guest again: a request the guest missed (it was booting), or a pending record no
            // component sent (a forged file), must not leave the device waiting for nothing.
            // QEMU answers an error for a device already gone or being unplugged: nothing to do.
            if (expected == null) {
                try {
                    command(l, "device_del", Map.of("id", late.device()), fail);
                } catch (HypervisorException again) {
                    LOG.debug("Instance {}: device_del of pending {} again: {}", l.name(), late.device(),
                            again.getMessage());
                }
            }
            awaitGone(l, slot, late.device(), fail, what, late);
            r = new Released(late.device(), late.backend());
        } else {
            String dev = deviceAt(l, slot, fail);
            String backend = backendOf.of(dev);
            PendingRemovals.Removal removal;
            try {
                removal = new PendingRemovals.Removal(slot, dev, backend, kind, key);
            } catch (IllegalArgumentException e) {
                // QEMU's answers are input too: only ids hvkit gives are removed
                throw new HypervisorException(fail + "QEMU's answer is not a device hvkit added: " + e.getMessage());
            }
            command(l, "device_del", Map.of("id", dev), fail);
            awaitGone(l, slot, dev, fail, what, new Pending(l.process().pid(), removal));
            r = new Released(dev, backend);
        }
        done(l.name(), r.device());
        return r;
    }

    /** The pending removal of the device at {@code slot} of {@code l}'s QEMU process, or null. */
    Pending pendingAt(Live l, int slot) {
        for (Map.Entry<String, Pending> e : pending.entrySet()) {
            Pending p = e.getValue();
            if (e.getKey().startsWith(l.name() + "/") && p.slot() == slot
                    && pending(l.name(), l.process().pid(), p.device()) == p) {
                return p;
            }
        }
        return null;
    }

    /**
     * Waits until {@code dev} has left slot {@code slot}: the guest acknowledged the ACPI eject.
     * When it has not within the bound, {@code late} becomes pending (finished on QEMU's
     * {@code DEVICE_DELETED}) and the error says so; without one (undoing a failed hot-add)
     * nothing is pending.
     */
    void awaitGone(Live l, int slot, String dev, String fail, String what, Pending late) throws HypervisorException {
        long deadline = System.nanoTime() + releaseWait.toNanos();
        while (true) {
            JsonNode buses = core.onMonitor(l.name(), l.process().pid(), qmp -> qmp.execute("query-pci", Map.of()));
            if (!dev.equals(idAt(buses, slot))) {
                return;
            }
            if (System.nanoTime() > deadline || core.closing()) {
                // a component that is going away stops waiting; the removal's file tells its successor
                if (late == null) {
                    throw new HypervisorException(fail + "the guest did not release device " + dev + " within "
                            + releaseWait.toMillis() + " ms (a guest without ACPI PCI hotplug ignores the request); "
                            + what + " stays, and QEMU removes it if the guest lets go later");
                }
                pend(l.name(), late);
                // the guest may have let go between the last look and now, its event unheard
                if (!dev.equals(idAt(core.onMonitor(l.name(), l.process().pid(),
                        qmp -> qmp.execute("query-pci", Map.of())), slot))) {
                    done(l.name(), dev);
                    return;
                }
                throw new HypervisorException(fail + "the guest did not release device " + dev + " within "
                        + releaseWait.toMillis() + " ms (a guest without ACPI PCI hotplug ignores the request); "
                        + what + " stays until it does: the removal is finished when QEMU reports the device"
                        + " deleted, or by another hot-remove; a stop ends it");
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HypervisorException(fail + "interrupted while waiting for the guest to release " + dev, e);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** The event of a NIC change (InstanceEvents' device topics). */
    private void published(String topic, Live l, String reason, Nic nic) {
        core.events().device(topic, l.name(), l.process().pid(), reason, Map.of(InstanceEvents.DEVICE, "nic",
                InstanceEvents.MAC, nic.mac(), InstanceEvents.LINK, nic.mode().ganetiName()
                        + (nic.link().isEmpty() ? "" : " " + nic.link())));
    }

    PciSlots restore(Live l) throws HypervisorException {
        Object reserved = l.up().get(KvmParameters.KVM_PCI_RESERVATIONS);
        int r = reserved instanceof Number ? (int) ((Number) reserved).longValue() : PciSlots.DEFAULT_RESERVATIONS;
        return PciSlots.restore(r, l.runtime().layout().pciSlots());
    }

    private List<String> tapNames(String name, int count) throws HypervisorException {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(core.store().tap(name, i));
        }
        return out;
    }

    private void save(Live l, List<Nic> nics, Map<String, Integer> slots) throws HypervisorException {
        KvmRuntime r = l.runtime();
        KvmRuntime updated = new KvmRuntime(r.argv(), nics, r.hvparams(), new DeviceLayout(r.layout().version(), slots));
        core.store().save(l.name(), updated, l.instance().toBuilder().nics(nics).build());
    }

    void command(Live l, String command, Map<String, ?> args, String fail) throws HypervisorException {
        try {
            core.onMonitor(l.name(), l.process().pid(), qmp -> qmp.execute(command, args));
        } catch (QmpException e) {
            throw new HypervisorException(fail + command + " failed: " + e.getMessage(), e);
        }
    }

    /** What an unfinished hot-add has done to QEMU and the files, undone in reverse order. */
    private final class Undo {
        final String name;
        final long pid;
        final List<String> fds = new ArrayList<>();
        String netdev;
        String device;
        int nicFile = -1;
        boolean finished;

        Undo(String name, long pid) {
            this.name = name;
            this.pid = pid;
        }

        void done() {
            finished = true;
        }

        void run(Exception cause) {
            if (finished) {
                return;
            }
            if (nicFile >= 0) {
                try {
                    java.nio.file.Files.deleteIfExists(core.paths().confined(core.paths().nicDir(name)
                            .resolve(Integer.toString(nicFile))));
                } catch (java.io.IOException | HypervisorException e) {
                    cause.addSuppressed(e);
                }
            }
            if (device != null) {
                quietly(cause, "device_del", Map.of("id", device));
            }
            if (netdev != null) {
                quietly(cause, "netdev_del", Map.of("id", netdev));
            }
            for (String fd : fds) {
                quietly(cause, "closefd", Map.of("fdname", fd));
            }
        }

        private void quietly(Exception cause, String command, Map<String, ?> args) {
            try {
                core.onMonitor(name, pid, qmp -> qmp.execute(command, args));
            } catch (HypervisorException | RuntimeException e) {
                LOG.warn("Undoing a hot-add on {}: {} failed: {}", name, command, e.getMessage());
                cause.addSuppressed(e);
            }
        }
    }
}
