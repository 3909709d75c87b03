package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.DRIVE_BOOT_ON;
import static org.hvkit.kvm.internal.params.KvmParameters.BOOT_ORDER;
import static org.hvkit.kvm.internal.params.KvmParameters.DISK_TYPE;
import static org.hvkit.kvm.internal.params.KvmParameters.KERNEL_PATH;

/**
 * Where the guest boots from. A kernel ({@code kernel_path}) boots directly: boot flags as well
 * would give two boot devices (Ganeti #286), so then none of disk, cdrom or network is set.
 *
 * @param kernel  a kernel is given
 * @param disk    boot from the first disk ({@code -boot c})
 * @param cdrom   boot from the cdrom ({@code -boot d})
 * @param network boot from the network ({@code -boot n})
 * @param bootOn  old kvm needs {@code ,boot=on} on the boot drive (never on IDE)
 */
record BootOrder(boolean kernel, boolean disk, boolean cdrom, boolean network, boolean bootOn) {

    static BootOrder of(Argv a) {
        boolean kernel = !a.str(KERNEL_PATH).isEmpty();
        String order = a.str(BOOT_ORDER);
        return new BootOrder(kernel, !kernel && "disk".equals(order), !kernel && "cdrom".equals(order),
                !kernel && "network".equals(order), a.caps.has(DRIVE_BOOT_ON) && !"ide".equals(a.str(DISK_TYPE)));
    }

    /** {@code -boot n}: network boot comes before the drives. */
    void renderNetwork(Argv a) {
        if (network) {
            a.add("-boot", "n");
        }
    }
}
