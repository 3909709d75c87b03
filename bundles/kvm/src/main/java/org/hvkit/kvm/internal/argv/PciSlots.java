package org.hvkit.kvm.internal.argv;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

import org.hvkit.hypervisor.HypervisorException;

/**
 * The slots of the guest's first PCI bus that hvkit gives its devices, as Ganeti 3.0's
 * {@code PCIAllocator} ({@code lib/hypervisor/hv_kvm/bus_manager.py}) and
 * {@code _GetBusSlots} ({@code lib/hypervisor/hv_kvm/__init__.py}): the bus has
 * {@link #SLOTS} slots; the first {@code kvm_pci_reservations} (default 12: host bridge, ISA
 * bridge, VGA and what QEMU adds by itself) are left to QEMU; every device hvkit names gets the
 * lowest free slot above them. The assignment is saved in the runtime, so a reboot and a
 * migration target give the guest the same addresses, and a later hotplug restores it with
 * {@link #restore}, takes a free slot with {@link #allocate} and gives one back with
 * {@link #release}. Not thread-safe: one instance operation at a time holds it.
 */
public final class PciSlots {

    /** Ganeti's {@code QEMU_PCI_SLOTS}: the slots of one conventional PCI bus. */
    public static final int SLOTS = 32;
    /** Ganeti's {@code QEMU_DEFAULT_PCI_RESERVATIONS}. */
    public static final int DEFAULT_RESERVATIONS = 12;

    private final int reserved;
    /** Device id → slot, in allocation order. */
    private final Map<String, Integer> slots = new LinkedHashMap<>();

    /** @param reserved {@code kvm_pci_reservations}: slots 0 … reserved-1 stay QEMU's */
    public PciSlots(int reserved) {
        if (reserved < 0 || reserved > SLOTS) {
            throw new IllegalArgumentException("kvm_pci_reservations must be within 0.." + SLOTS + ", got " + reserved);
        }
        this.reserved = reserved;
    }

    /**
     * The slots of a saved runtime, checked as hostile input: each within the bus and above the
     * reservations, none given twice.
     */
    public static PciSlots restore(int reserved, Map<String, Integer> saved) throws HypervisorException {
        PciSlots s = new PciSlots(reserved);
        for (Map.Entry<String, Integer> e : saved.entrySet()) {
            s.occupy(e.getKey(), e.getValue());
        }
        return s;
    }

    /** Gives {@code device} the lowest free slot, or the one it has already. */
    public int allocate(String device) throws HypervisorException {
        Integer had = slots.get(device);
        if (had != null) {
            return had;
        }
        for (int slot = reserved; slot < SLOTS; slot++) {
            if (!slots.containsValue(slot)) {
                slots.put(device, slot);
                return slot;
            }
        }
        throw new HypervisorException("No free PCI slot for " + device + ": the guest's PCI bus has " + SLOTS
                + " slots, kvm_pci_reservations keeps " + reserved + " for QEMU and " + slots.size()
                + " hold other devices (at most " + (SLOTS - reserved) + " disks, NICs and the balloon);"
                + " lower kvm_pci_reservations or use fewer devices");
    }

    /** Marks {@code slot} as {@code device}'s (a saved assignment). */
    public void occupy(String device, int slot) throws HypervisorException {
        if (slot < reserved || slot >= SLOTS) {
            throw new HypervisorException("PCI slot " + slot + " of " + device + " is outside " + reserved + ".."
                    + (SLOTS - 1) + " (the bus has " + SLOTS + " slots, kvm_pci_reservations " + reserved + ")");
        }
        for (Map.Entry<String, Integer> e : slots.entrySet()) {
            if (e.getValue() == slot && !e.getKey().equals(device)) {
                throw new HypervisorException("PCI slot " + slot + " is given to both " + e.getKey() + " and " + device);
            }
        }
        slots.put(device, slot);
    }

    /** Frees {@code device}'s slot (hot removal); whether it had one. */
    public boolean release(String device) {
        return slots.remove(device) != null;
    }

    public OptionalInt slotOf(String device) {
        Integer s = slots.get(device);
        return s == null ? OptionalInt.empty() : OptionalInt.of(s);
    }

    public int reserved() {
        return reserved;
    }

    /** Device id → slot, in allocation order. */
    public Map<String, Integer> assigned() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(slots));
    }

    /** QEMU's spelling of a slot in {@code -device …,addr=} (Ganeti's {@code hex(slot)}). */
    public static String addr(int slot) {
        return "0x" + Integer.toHexString(slot);
    }
}
