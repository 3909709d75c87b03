package org.hvkit.kvm.internal.argv;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which device layout a saved runtime was generated with, and the PCI slots it gave its
 * devices. A running guest must keep its hardware: a reboot and a migration target render a
 * runtime in the layout it was written with, never in the one a newer hvkit would choose.
 *
 * <ul>
 *   <li>{@link #LEGACY} (1): runtimes written before layouts existed (they carry no layout):
 *       QEMU places the devices itself, no balloon, no {@code -D} log;</li>
 *   <li>{@link #SLOTTED} (2): where the binary has {@code -device}, every virtio disk, every NIC
 *       and the virtio balloon at an explicit PCI slot ({@link PciSlots}, respecting
 *       {@code kvm_pci_reservations}), and QEMU's own log ({@code -D}) in the runtime directory.</li>
 * </ul>
 *
 * @param version  {@link #LEGACY} or {@link #SLOTTED}
 * @param pciSlots device id ({@code disk<i>}, {@code nic<i>}, {@code balloon0}) → slot; empty
 *                 for {@link #LEGACY} and for binaries without {@code -device}
 */
public record DeviceLayout(int version, Map<String, Integer> pciSlots) {

    public static final int LEGACY = 1;
    public static final int SLOTTED = 2;
    /** What new starts use. */
    public static final int CURRENT = SLOTTED;

    public DeviceLayout {
        if (version < LEGACY || version > CURRENT) {
            throw new IllegalArgumentException("device layout " + version + " is not one of " + LEGACY + ".." + CURRENT);
        }
        pciSlots = Collections.unmodifiableMap(new LinkedHashMap<>(pciSlots));
    }

    public static DeviceLayout legacy() {
        return new DeviceLayout(LEGACY, Map.of());
    }

    /** A new start: the current layout, slots not yet allocated. */
    public static DeviceLayout fresh() {
        return new DeviceLayout(CURRENT, Map.of());
    }

    public boolean slotted() {
        return version >= SLOTTED;
    }

    static String disk(int index) {
        return "disk" + index;
    }

    static String nic(int index) {
        return "nic" + index;
    }

    static final String BALLOON = "balloon0";
}
