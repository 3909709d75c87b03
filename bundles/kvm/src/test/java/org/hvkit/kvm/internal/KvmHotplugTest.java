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
        kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
    }

    @AfterEach
    void tearDown() throws Exception {
        kvm.stopInstanceByName("hp1");
        if (kvm.knownInstances().contains("hp1")) {
            kvm.cleanupInstance("hp1");
        }
        kvm.close();
        KvmTestNode.removeBridge(BRIDGE);
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
}
