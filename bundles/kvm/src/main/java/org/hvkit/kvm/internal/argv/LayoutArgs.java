package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.DEVICE;
import static org.hvkit.kvm.internal.caps.QemuFeature.LOG_FILE;
import static org.hvkit.kvm.internal.caps.QemuFeature.NETDEV;
import static org.hvkit.kvm.internal.params.KvmParameters.KVM_PCI_RESERVATIONS;
import static org.hvkit.kvm.internal.params.KvmParameters.NIC_TYPE;

import java.util.Map;
import java.util.Set;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.params.KvmParameters;

/**
 * The {@link DeviceLayout#SLOTTED} layout (Ganeti 3.0's {@code _GenerateKVMRuntime} with its bus
 * manager, {@code lib/hypervisor/hv_kvm/__init__.py}): PCI slots for the virtio disks (given by
 * {@link DriveArgs}), then the NICs, then the balloon — the order Ganeti allocates disks and NICs
 * in —, the virtio balloon device Ganeti 3.0 adds to every instance, and QEMU's {@code -D} log.
 * Slots are given only where the binary has {@code -device}; {@code addr=} without {@code bus=}
 * puts a device on the machine's root PCI bus ({@code pci.0} on i440fx; Ganeti writes
 * {@code bus=pci.0}, which a q35 machine does not have).
 */
final class LayoutArgs {

    /** NIC models that sit on the ISA bus and take no PCI address. */
    private static final Set<String> ISA_NICS = Set.of("ne2k_isa");

    private LayoutArgs() {
    }

    /** The slots to fill: new ones for a new start, the saved ones for a saved layout, null for none. */
    static PciSlots of(Argv a, DeviceLayout saved) throws HypervisorException {
        int reserved = reservations(a.hv);
        if (saved == null) {
            return a.caps.has(DEVICE) ? new PciSlots(reserved) : null;
        }
        if (!saved.slotted() || saved.pciSlots().isEmpty()) {
            return null;
        }
        return PciSlots.restore(reserved, saved.pciSlots());
    }

    /** {@code kvm_pci_reservations} (Ganeti 3.0, default 12). */
    static int reservations(Map<String, Object> hv) {
        Object v = hv.get(KVM_PCI_RESERVATIONS);
        return v instanceof Number ? (int) ((Number) v).longValue() : PciSlots.DEFAULT_RESERVATIONS;
    }

    /** A slot for every NIC on {@code -netdev}/{@code -device} (rendered at execution, {@link NicArgs}). */
    static void nics(Argv a) throws HypervisorException {
        if (a.slots == null || !a.caps.has(NETDEV)) {
            return;
        }
        boolean isa = !KvmParameters.paravirtual(a.hv, NIC_TYPE) && ISA_NICS.contains(a.str(NIC_TYPE));
        for (int i = 0; i < a.instance.nics().size() && !isa; i++) {
            a.slots.allocate(DeviceLayout.nic(i));
        }
    }

    /** The virtio balloon at its slot ({@code BalloonInstanceMemory} needs it). */
    static void balloon(Argv a, int version) throws HypervisorException {
        if (a.slots == null || version < DeviceLayout.SLOTTED) {
            return;
        }
        int slot = a.slots.allocate(DeviceLayout.BALLOON);
        a.add("-device", "virtio-balloon-pci,id=" + DeviceLayout.BALLOON + ",addr=" + PciSlots.addr(slot));
    }

    /** {@code -D <ctrl/NAME.qemu.log>}: a daemonized QEMU's stderr, kept for the start error. */
    static void qemuLog(Argv a, String name, DeviceLayout layout) {
        if (layout.slotted() && a.caps.has(LOG_FILE)) {
            a.add("-D", a.paths.qemuLog(name).toString());
        }
    }
}
