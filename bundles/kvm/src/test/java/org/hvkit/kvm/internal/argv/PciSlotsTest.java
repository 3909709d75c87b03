package org.hvkit.kvm.internal.argv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

import org.hvkit.hypervisor.HypervisorException;
import org.junit.jupiter.api.Test;

/** Ganeti 3.0's PCI slot allocation ({@code PCIAllocator}), as start and a later hotplug use it. */
class PciSlotsTest {

    @Test
    void devicesGetTheLowestFreeSlotsAboveTheReservations() throws HypervisorException {
        PciSlots s = new PciSlots(PciSlots.DEFAULT_RESERVATIONS);
        assertEquals(12, s.allocate("disk0"));
        assertEquals(13, s.allocate("nic0"));
        assertEquals(14, s.allocate("balloon0"));
        assertEquals(13, s.allocate("nic0"), "a device keeps the slot it has");
        assertEquals(Map.of("disk0", 12, "nic0", 13, "balloon0", 14), s.assigned());
        assertEquals("0xc", PciSlots.addr(12));
        assertEquals("0x1f", PciSlots.addr(31));
    }

    @Test
    void kvmPciReservationsMovesTheFirstSlot() throws HypervisorException {
        assertEquals(0, new PciSlots(0).allocate("nic0"));
        assertEquals(20, new PciSlots(20).allocate("nic0"));
        HypervisorException e = assertThrows(HypervisorException.class, () -> new PciSlots(32).allocate("nic0"));
        assertTrue(e.getMessage().startsWith("No free PCI slot for nic0: the guest's PCI bus has 32 slots,"
                + " kvm_pci_reservations keeps 32 for QEMU"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new PciSlots(33));
        assertThrows(IllegalArgumentException.class, () -> new PciSlots(-1));
    }

    @Test
    void tooManyDevicesIsAnErrorNamingTheLimit() throws HypervisorException {
        PciSlots s = new PciSlots(12);
        for (int i = 0; i < 20; i++) {
            assertEquals(12 + i, s.allocate("nic" + i));
        }
        HypervisorException e = assertThrows(HypervisorException.class, () -> s.allocate("balloon0"));
        assertEquals("No free PCI slot for balloon0: the guest's PCI bus has 32 slots, kvm_pci_reservations keeps 12"
                + " for QEMU and 20 hold other devices (at most 20 disks, NICs and the balloon); lower"
                + " kvm_pci_reservations or use fewer devices", e.getMessage());
        assertEquals(20, s.assigned().size(), "a failed allocation takes nothing");
    }

    /** What a hotplug does: restore the saved slots, free a removed device's, give a new one the lowest free. */
    @Test
    void aRestoredLayoutReusesFreedSlots() throws HypervisorException {
        Map<String, Integer> saved = new LinkedHashMap<>();
        saved.put("disk0", 12);
        saved.put("nic0", 13);
        saved.put("nic1", 14);
        saved.put("balloon0", 15);
        PciSlots s = PciSlots.restore(12, saved);
        assertEquals(16, s.allocate("nic2"));
        assertTrue(s.release("nic0"));
        assertFalse(s.release("nic0"), "released once");
        assertEquals(OptionalInt.empty(), s.slotOf("nic0"));
        assertEquals(13, s.allocate("nic3"), "the freed slot is the lowest free one");
        assertEquals(OptionalInt.of(15), s.slotOf("balloon0"));
    }

    @Test
    void savedSlotsAreCheckedAsHostileInput() {
        HypervisorException dup = assertThrows(HypervisorException.class,
                () -> PciSlots.restore(12, new LinkedHashMap<>(Map.of("nic0", 13, "nic1", 13))));
        assertTrue(dup.getMessage().matches("PCI slot 13 is given to both nic[01] and nic[01]"), dup.getMessage());
        HypervisorException low = assertThrows(HypervisorException.class,
                () -> PciSlots.restore(12, Map.of("nic0", 3)));
        assertEquals("PCI slot 3 of nic0 is outside 12..31 (the bus has 32 slots, kvm_pci_reservations 12)",
                low.getMessage());
        assertThrows(HypervisorException.class, () -> PciSlots.restore(0, Map.of("nic0", 32)));
        assertThrows(HypervisorException.class, () -> PciSlots.restore(0, Map.of("nic0", -1)));
    }
}
