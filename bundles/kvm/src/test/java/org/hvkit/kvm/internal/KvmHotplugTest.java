package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.KvmTestNode.awaitLog;
import static org.hvkit.kvm.internal.KvmTestNode.serialLog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.kvm.internal.argv.KvmRuntime;
import org.hvkit.kvm.internal.monitor.QmpClient;
import org.hvkit.kvm.internal.runtime.PendingRemovals;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NIC hotplug on real QEMU 7.2 (TCG) and the real test guest in this test's private network
 * namespace: the guest ({@code guest.hotplug=1}) sees a hot-added NIC appear and pings the
 * bridge over it; a reboot keeps the NIC at the same PCI slot; after hot-removal the guest's
 * interface and the host's tap are gone; bad requests change nothing.
 */
class KvmHotplugTest {

    private static final String BRIDGE = "brhp";

    @TempDir
    Path tmp;
    Path root;
    KvmHypervisor kvm;

    @BeforeEach
    void setUp() throws Exception {
        KvmTestNode.requireRealQemu();
        KvmTestNode.ensureBridge(BRIDGE, "10.78.0.1/24");
        root = tmp.resolve("kvm");
        kvm = KvmTestNode.open(KvmTestNode.settings("node-a", root, KvmTestNode.QEMU, false, null), null,
                KvmTestNode.natives(), events);
    }

    final InstanceEventsTest.Recorder events = new InstanceEventsTest.Recorder();

    /** The device events the node published for hp1, as "device/ADDED hp1 hot-add aa:…". */
    private List<String> deviceEvents() {
        synchronized (events) {
            return events.got.stream().filter(g -> g.topic().contains("/device/"))
                    .map(g -> g.line() + " " + g.properties().get(org.hvkit.hypervisor.InstanceEvents.MAC) + " "
                            + g.properties().get(org.hvkit.hypervisor.InstanceEvents.LINK)).toList();
        }
    }

    KvmHypervisor target;

    @AfterEach
    void tearDown() throws Exception {
        for (KvmHypervisor n : new KvmHypervisor[] {kvm, target}) {
            if (n != null) {
                n.stopInstanceByName("hp1");
                if (n.knownInstances().contains("hp1")) {
                    n.cleanupInstance("hp1");
                }
                n.close();
            }
        }
        KvmTestNode.removeBridge(BRIDGE);
    }

    private static List<String> taps() throws Exception {
        try (var s = Files.list(Path.of("/sys/class/net"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("tap")).sorted().toList();
        }
    }

    private Instance running() throws HypervisorException {
        return Objects.requireNonNull(kvm.runningInstance("hp1"), "hp1 runs");
    }

    private static List<String> bridgePorts() throws Exception {
        try (var s = Files.list(Path.of("/sys/class/net/" + BRIDGE + "/brif"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private KvmRuntime runtime() throws HypervisorException {
        return KvmTestNode.core(kvm).store().load("hp1").orElseThrow().runtime();
    }

    @Test
    void aHotAddedNicIsSeenByTheGuestKeptOverARebootAndGoesWhenRemoved() throws Exception {
        Instance guest = KvmTestNode.guest("hp1", null, null)
                .hvparam("kernel_args", "panic=-1 guest.hotplug=1 guest.hotip=10.78.0.50/24 guest.hotping=10.78.0.1")
                .build();
        kvm.startInstance(guest, false);
        awaitLog(root, "hp1", "GUEST-HOTPLUG nics=lo", Duration.ofSeconds(60));
        kvm.checkHotplugSupport(running());

        Nic nic = new Nic("aa:00:00:00:78:01", null, NicMode.BRIDGED, BRIDGE);
        kvm.hotAddNic(running(), nic);
        awaitLog(root, "hp1", "GUEST-NIC-ADDED eth0 aa:00:00:00:78:01", Duration.ofSeconds(30));
        awaitLog(root, "hp1", "GUEST-PING-", Duration.ofSeconds(30));
        assertTrue(serialLog(root, "hp1").contains("GUEST-PING-OK 10.78.0.1 via eth0"), serialLog(root, "hp1"));
        String tap = KvmTestNode.core(kvm).store().tap("hp1", 0);
        assertEquals(List.of(tap), bridgePorts(), "the new tap is the bridge's only port");
        assertEquals(List.of(nic), runtime().nics(), "the saved runtime has the NIC");
        int slot = runtime().layout().pciSlots().get("nic0");
        assertTrue(slot >= 12, "above kvm_pci_reservations: " + slot);
        assertEquals(List.of(nic), running().nics(), "and so does the instance's definition");

        // bad requests: nothing changes
        HypervisorException dup = assertThrows(HypervisorException.class, () -> kvm.hotAddNic(running(),
                new Nic("aa:00:00:00:78:01", null, NicMode.BRIDGED, BRIDGE)));
        assertTrue(dup.getMessage().contains("has a NIC with this MAC already"), dup.getMessage());
        HypervisorException noBridge = assertThrows(HypervisorException.class, () -> kvm.hotAddNic(running(),
                new Nic("aa:00:00:00:78:02", null, NicMode.BRIDGED, "br-none")));
        assertTrue(noBridge.getMessage().contains("bridge br-none does not exist"), noBridge.getMessage());
        HypervisorException unknown = assertThrows(HypervisorException.class,
                () -> kvm.hotRemoveNic(running(), "aa:00:00:00:78:99"));
        assertTrue(unknown.getMessage().contains("no NIC with this MAC; its NICs: aa:00:00:00:78:01"),
                unknown.getMessage());
        HypervisorException notMac = assertThrows(HypervisorException.class,
                () -> kvm.hotRemoveNic(running(), "eth0; reboot"));
        assertTrue(notMac.getMessage().contains("is not a MAC address"), notMac.getMessage());
        assertEquals(List.of(nic), runtime().nics());
        assertEquals(List.of(tap), bridgePorts());

        // a modification moves the tap to another bridge; a bridge that does not exist changes nothing
        KvmTestNode.ensureBridge("brhp2", "10.79.0.1/24");
        try {
            HypervisorException noSuch = assertThrows(HypervisorException.class, () -> kvm.hotModifyNic(running(),
                    new Nic(nic.mac(), null, NicMode.BRIDGED, "br-none")));
            assertTrue(noSuch.getMessage().contains("bridge br-none does not exist"), noSuch.getMessage());
            assertEquals(List.of(tap), bridgePorts());
            Nic moved = new Nic(nic.mac(), null, NicMode.BRIDGED, "brhp2");
            kvm.hotModifyNic(running(), moved);
            assertEquals(List.of(), bridgePorts());
            try (var ports = Files.list(Path.of("/sys/class/net/brhp2/brif"))) {
                assertEquals(List.of(tap), ports.map(p -> p.getFileName().toString()).toList());
            }
            assertEquals(List.of(moved), runtime().nics());
            kvm.hotModifyNic(running(), nic);
            assertEquals(List.of(tap), bridgePorts(), "and back");
            assertEquals(List.of(nic), runtime().nics());
        } finally {
            KvmTestNode.removeBridge("brhp2");
        }

        // a reboot: the NIC is on the command line now, at the same slot
        kvm.rebootInstance(running());
        awaitLog(root, "hp1", "GUEST-HOTPLUG nics=eth0 lo", Duration.ofSeconds(60));
        long pid = Objects.requireNonNull(kvm.instanceInfo("hp1")).pid();
        String argv = String.join(" ", Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
        assertTrue(argv.contains("mac=aa:00:00:00:78:01,netdev=netdev0,id=nic0,addr=0x" + Integer.toHexString(slot)),
                argv);

        // hot-removal: the guest lets go, the tap leaves the bridge, the files forget the NIC
        kvm.hotRemoveNic(running(), "AA:00:00:00:78:01");
        awaitLog(root, "hp1", "GUEST-NIC-REMOVED eth0", Duration.ofSeconds(30));
        assertEquals(List.of(), bridgePorts(), "the tap is gone from the bridge");
        assertEquals(List.of(), runtime().nics());
        assertEquals(List.of(), running().nics());
        assertFalse(runtime().layout().pciSlots().containsKey("nic0"), runtime().layout().pciSlots().toString());
        assertFalse(Files.exists(KvmTestNode.core(kvm).paths().nicDir("hp1").resolve("0")), "no nic file");

        assertEquals(List.of("device/ADDED hp1 hot-add aa:00:00:00:78:01 bridged brhp",
                "device/MODIFIED hp1 hot-modify aa:00:00:00:78:01 bridged brhp2",
                "device/MODIFIED hp1 hot-modify aa:00:00:00:78:01 bridged brhp",
                "device/REMOVED hp1 hot-remove aa:00:00:00:78:01 bridged brhp"), deviceEvents(),
                "one event per change, none for refused requests");

        // a NIC hot-added and hot-removed within one QEMU (device hotnic<slot>, found by its slot)
        Nic second = new Nic("aa:00:00:00:78:02", null, NicMode.BRIDGED, BRIDGE);
        kvm.hotAddNic(running(), second);
        awaitLog(root, "hp1", "aa:00:00:00:78:02", Duration.ofSeconds(30));
        assertEquals(1, bridgePorts().size());
        kvm.hotRemoveNic(running(), second.mac());
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (KvmTestNode.count(serialLog(root, "hp1"), "GUEST-NIC-REMOVED") < 2 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(2, KvmTestNode.count(serialLog(root, "hp1"), "GUEST-NIC-REMOVED"), serialLog(root, "hp1"));
        assertEquals(List.of(), bridgePorts());
        assertEquals(List.of(), runtime().nics());
    }

    /**
     * A guest that lets go after the wait (here: the wait shortened to nothing and the guest
     * paused until the call has returned, so its release always comes late): the call says the removal is pending, and QEMU's
     * DEVICE_DELETED finishes it — backend, tap, files, event — with no second call.
     */
    @Test
    void aRemovalTheGuestAcknowledgesLateIsFinishedOnQemusEvent() throws Exception {
        Nic nic = new Nic("aa:00:00:00:78:11", null, NicMode.BRIDGED, BRIDGE);
        kvm.startInstance(KvmTestNode.guest("hp1", null, null).nic(nic)
                .hvparam("kernel_args", "panic=-1 guest.hotplug=1").build(), false);
        awaitLog(root, "hp1", "GUEST-HOTPLUG", Duration.ofSeconds(60));
        assertEquals(1, bridgePorts().size());
        kvm.hotplug().releaseWait(Duration.ZERO);
        KvmTestNode.qmp(kvm, "hp1", "stop"); // paused until the call has returned: its release always comes late
        HypervisorException e = assertThrows(HypervisorException.class, () -> kvm.hotRemoveNic(running(), nic.mac()));
        KvmTestNode.qmp(kvm, "hp1", "cont");
        assertTrue(e.getMessage().contains("the guest did not release device nic0 within 0 ms")
                && e.getMessage().contains("the removal is finished when QEMU reports the device deleted"),
                e.getMessage());
        awaitLog(root, "hp1", "GUEST-NIC-REMOVED eth0", Duration.ofSeconds(30));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!runtime().nics().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), runtime().nics(), "finished without a second call");
        assertEquals(List.of(), running().nics());
        assertEquals(List.of(), bridgePorts(), "the tap is gone from the bridge");
        assertFalse(Files.exists(KvmTestNode.core(kvm).paths().nicDir("hp1").resolve("0")), "no nic file");
        assertFalse(runtime().layout().pciSlots().containsKey("nic0"), runtime().layout().pciSlots().toString());
        assertEquals(List.of("device/REMOVED hp1 hot-remove aa:00:00:00:78:11 bridged brhp"), deviceEvents());
        // a second call finds nothing left to do
        HypervisorException again = assertThrows(HypervisorException.class,
                () -> kvm.hotRemoveNic(running(), nic.mac()));
        assertTrue(again.getMessage().contains("the instance has no NIC with this MAC"), again.getMessage());

        // another hot-remove finishes a pending removal too (here the event is ignored: the
        // removal is marked as being finished already, as if the event had been missed)
        kvm.hotplug().releaseWait(KvmHotplug.RELEASE_WAIT);
        Nic second = new Nic("aa:00:00:00:78:12", null, NicMode.BRIDGED, BRIDGE);
        kvm.hotAddNic(running(), second);
        awaitLog(root, "hp1", "aa:00:00:00:78:12", Duration.ofSeconds(30));
        KvmHotplug.Live l = kvm.hotplug().live("hp1", "test", List.of());
        int slot = kvm.hotplug().restore(l).slotOf("nic0").orElseThrow();
        String dev = kvm.hotplug().deviceAt(l, slot, "");
        // as if the call had timed out: device_del asked, the removal pending, its finisher never run
        kvm.hotplug().pend("hp1", new KvmHotplug.Pending(l.process().pid(), new PendingRemovals.Removal(slot, dev,
                "hotnet" + slot, PendingRemovals.NIC, second.mac()), new java.util.concurrent.atomic.AtomicBoolean(true)));
        KvmTestNode.core(kvm).onMonitor("hp1", l.process().pid(), q -> q.execute("device_del", java.util.Map.of("id", dev)));
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (KvmTestNode.count(serialLog(root, "hp1"), "GUEST-NIC-REMOVED") < 2 && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        assertEquals(2, KvmTestNode.count(serialLog(root, "hp1"), "GUEST-NIC-REMOVED"), serialLog(root, "hp1"));
        kvm.hotRemoveNic(running(), second.mac());
        assertEquals(List.of(), runtime().nics());
        assertEquals(List.of(), bridgePorts());
    }

    /**
     * A removal pending when the component goes away (a bundle update): the guest lets go while
     * no component listens, so QEMU's event is lost; the successor finds the removal in the
     * runtime directory and finishes it when it opens — backend, tap, files — as the component
     * that asked would have. The guest is paused around the request so that it cannot let go
     * before the component has gone.
     */
    @Test
    void aPendingRemovalOutlivesItsComponentAndTheSuccessorFinishesIt() throws Exception {
        Nic nic = new Nic("aa:00:00:00:78:21", null, NicMode.BRIDGED, BRIDGE);
        KvmSettings settings = KvmTestNode.settings("node-a", root, KvmTestNode.QEMU, false, null);
        kvm.startInstance(KvmTestNode.guest("hp1", null, null).nic(nic)
                .hvparam("kernel_args", "panic=-1 guest.hotplug=1").build(), false);
        awaitLog(root, "hp1", "GUEST-HOTPLUG", Duration.ofSeconds(60));
        String tap = KvmTestNode.core(kvm).store().tap("hp1", 0);
        KvmTestNode.qmp(kvm, "hp1", "stop");
        kvm.hotplug().releaseWait(Duration.ZERO);
        HypervisorException e = assertThrows(HypervisorException.class, () -> kvm.hotRemoveNic(running(), nic.mac()));
        assertTrue(e.getMessage().contains("the removal is finished when QEMU reports the device deleted"),
                e.getMessage());
        Path file = KvmTestNode.core(kvm).paths().pendingFile("hp1");
        Path qmpSocket = KvmTestNode.core(kvm).paths().qmpSocket("hp1");
        long pid = Objects.requireNonNull(kvm.instanceInfo("hp1")).pid();
        assertEquals(new PendingRemovals.Saved(pid, List.of(new PendingRemovals.Removal(
                runtime().layout().pciSlots().get("nic0"), "nic0", "netdev0", PendingRemovals.NIC, nic.mac()))),
                new PendingRemovals(KvmTestNode.core(kvm).paths()).load("hp1").orElseThrow());

        kvm.close(); // the component goes; the guest runs on, and lets go with nobody listening
        try {
            try (QmpClient q = QmpClient.connect(qmpSocket, Duration.ofSeconds(10))) {
                q.execute("cont", java.util.Map.of());
            }
            awaitLog(root, "hp1", "GUEST-NIC-REMOVED eth0", Duration.ofSeconds(30));
            assertTrue(taps().contains(tap), "nobody has finished the removal yet: the tap is there");
        } finally {
            kvm = KvmTestNode.open(settings, null, KvmTestNode.natives(), events); // the successor
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!runtime().nics().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), runtime().nics(), "the successor finished it");
        assertFalse(taps().contains(tap), "the tap is gone");
        assertFalse(Files.exists(file), "and so is the file");
        assertEquals(pid, Objects.requireNonNull(kvm.instanceInfo("hp1")).pid(), "the same QEMU runs on");
        assertEquals(List.of("device/REMOVED hp1 hot-remove aa:00:00:00:78:21 bridged brhp"), deviceEvents());

        // a damaged file is not taken over: it puts the NIC at a slot the runtime does not give it
        kvm.hotAddNic(running(), new Nic("aa:00:00:00:78:22", null, NicMode.BRIDGED, BRIDGE));
        awaitLog(root, "hp1", "aa:00:00:00:78:22", Duration.ofSeconds(30));
        int wrong = runtime().layout().pciSlots().get("nic0") + 1;
        new PendingRemovals(KvmTestNode.core(kvm).paths()).save("hp1", pid, List.of(new PendingRemovals.Removal(wrong,
                "hotnic" + wrong, "hotnet" + wrong, PendingRemovals.NIC, "aa:00:00:00:78:22")));
        kvm.close();
        kvm = KvmTestNode.open(settings, null, KvmTestNode.natives(), events);
        assertEquals(null, kvm.hotplug().pending("hp1", pid, "hotnic" + wrong), "not taken over");
        assertEquals(1, runtime().nics().size(), "the NIC stays");

        // a stop ends a pending removal and its file
        KvmTestNode.qmp(kvm, "hp1", "stop");
        kvm.hotplug().releaseWait(Duration.ZERO);
        assertThrows(HypervisorException.class, () -> kvm.hotRemoveNic(running(), "aa:00:00:00:78:22"));
        assertTrue(Files.exists(file));
        kvm.stopInstance(running(), true, Duration.ofSeconds(10));
        kvm.cleanupInstance("hp1");
        assertFalse(Files.exists(file), "the cleanup removed it");
    }

    @Test
    void aHotAddThatFailsHalfwayLeavesNothingAndAStoppedOrOldInstanceIsRefused() throws Exception {
        Nic nic = new Nic("aa:00:00:00:78:03", "10.78.0.60", NicMode.ROUTED, "not-a-table");
        HypervisorException stopped = assertThrows(HypervisorException.class,
                () -> kvm.hotAddNic(KvmTestNode.guest("hp1", null, null).build(), nic));
        assertTrue(stopped.getMessage().contains("hp1: not running"), stopped.getMessage());
        assertEquals(List.of(), kvm.knownInstances(), "nothing written for a stopped instance");

        kvm.startInstance(KvmTestNode.guest("hp1", null, null)
                .hvparam("kernel_args", "panic=-1 guest.hotplug=1").build(), false);
        awaitLog(root, "hp1", "GUEST-HOTPLUG", Duration.ofSeconds(60));
        // an instance an older hvkit started (device layout 1: no saved slots) cannot take hotplug
        String layout1 = KvmTestNode.rebootInLayout1(kvm, running());
        awaitLog(root, "hp1", "GUEST-HOTPLUG", Duration.ofSeconds(60));
        HypervisorException old = assertThrows(HypervisorException.class, () -> kvm.hotAddNic(running(),
                new Nic("aa:00:00:00:78:06", null, NicMode.BRIDGED, BRIDGE)));
        assertTrue(old.getMessage().contains("it runs with device layout 1") && old.getMessage().contains(
                "a stop and a start"), old.getMessage());
        assertThrows(HypervisorException.class, () -> kvm.checkHotplugSupport(running()));
        assertEquals(layout1, KvmTestNode.core(kvm).store().load("hp1").orElseThrow().text(), "nothing changed");
        kvm.stopInstance(running(), true, Duration.ofSeconds(10));
        kvm.cleanupInstance("hp1");
        kvm.startInstance(KvmTestNode.guest("hp1", null, null)
                .hvparam("kernel_args", "panic=-1 guest.hotplug=1").build(), false);
        awaitLog(root, "hp1", "GUEST-HOTPLUG", Duration.ofSeconds(60));
        kvm.checkHotplugSupport(running());

        List<String> tapsBefore = taps();
        String runtimeBefore = KvmTestNode.core(kvm).store().load("hp1").orElseThrow().text();
        // the tap is opened, handed over and plugged; configuring it (routing table 'not-a-table') fails
        HypervisorException e = assertThrows(HypervisorException.class, () -> kvm.hotAddNic(running(), nic));
        assertTrue(e.getMessage().startsWith("Cannot hot-add NIC aa:00:00:00:78:03 to instance hp1: ")
                && e.getMessage().contains("Failed to configure interface"), e.getMessage());
        assertEquals(tapsBefore, taps(), "QEMU dropped the backend: no tap is left");
        assertEquals(runtimeBefore, KvmTestNode.core(kvm).store().load("hp1").orElseThrow().text(),
                "the runtime is as it was");
        assertFalse(Files.exists(KvmTestNode.core(kvm).paths().nicDir("hp1").resolve("0")), "no nic file");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        String pci;
        do {
            pci = KvmTestNode.qmp(kvm, "hp1", "query-pci").toString();
        } while (pci.contains("hotnic") && System.nanoTime() < deadline && sleep(100));
        assertFalse(pci.contains("hotnic"), "the device went too (the guest released it): " + pci);
        assertFalse(KvmTestNode.qmp(kvm, "hp1", "query-fdsets").toString().contains("hotnet"), "no fd left in QEMU");
        // and the instance takes a good NIC afterwards
        kvm.hotAddNic(running(), new Nic("aa:00:00:00:78:04", null, NicMode.BRIDGED, BRIDGE));
        assertEquals(1, runtime().nics().size());
    }

    private static boolean sleep(long ms) throws InterruptedException {
        Thread.sleep(ms);
        return true;
    }

    @Test
    void aLiveMigrationKeepsAHotAddedNicAtItsSlot() throws Exception {
        int port = KvmTestNode.freePort();
        kvm.close();
        kvm = KvmTestNode.node(KvmTestNode.migrationSettings("node-a", root, port));
        Path rootB = tmp.resolve("b");
        target = KvmTestNode.node(KvmTestNode.migrationSettings("node-b", rootB, port));
        kvm.startInstance(KvmTestNode.guest("hp1", null, null)
                .hvparam("kernel_args", "panic=-1 guest.hotplug=1").build(), false);
        awaitLog(root, "hp1", "GUEST-HOTPLUG nics=lo", Duration.ofSeconds(60));
        Nic nic = new Nic("aa:00:00:00:78:05", null, NicMode.BRIDGED, BRIDGE);
        kvm.hotAddNic(running(), nic);
        awaitLog(root, "hp1", "GUEST-NIC-ADDED eth0 aa:00:00:00:78:05", Duration.ofSeconds(30));
        int slot = runtime().layout().pciSlots().get("nic0");

        KvmTestNode.migrate(kvm, target, running(), true);
        Instance moved = Objects.requireNonNull(target.runningInstance("hp1"), "hp1 runs on node-b");
        assertEquals(List.of(nic), moved.nics(), "the target's definition has the NIC");
        long pid = Objects.requireNonNull(target.instanceInfo("hp1")).pid();
        String argv = String.join(" ", Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
        assertTrue(argv.contains("mac=aa:00:00:00:78:05,netdev=netdev0,id=nic0,addr=0x" + Integer.toHexString(slot)),
                "the target's QEMU has the NIC on its command line at the same slot: " + argv);
        assertEquals(List.of(KvmTestNode.core(target).store().tap("hp1", 0)), bridgePorts(),
                "the target's tap is on the bridge, the source's is gone");
        // the guest on the target has the NIC: removing it there is seen by the guest
        target.hotRemoveNic(moved, nic.mac());
        awaitLog(rootB, "hp1", "GUEST-NIC-REMOVED eth0", Duration.ofSeconds(30));
        assertEquals(List.of(), bridgePorts());
    }

}
