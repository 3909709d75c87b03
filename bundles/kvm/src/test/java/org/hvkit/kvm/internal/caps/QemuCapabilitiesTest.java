package org.hvkit.kvm.internal.caps;

import static org.hvkit.kvm.internal.caps.QemuFeature.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.EnumSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class QemuCapabilitiesTest {

    static QemuCapabilities fixture(String name) {
        return HelpFixtures.capabilities(name);
    }

    private static void check(String fixture, int maj, int min, int micro, Set<QemuFeature> expected) {
        QemuCapabilities c = fixture(fixture);
        assertEquals(maj, c.major(), fixture);
        assertEquals(min, c.minor(), fixture);
        assertEquals(micro, c.micro(), fixture);
        assertEquals(expected, EnumSet.copyOf(c.features().isEmpty() ? EnumSet.noneOf(QemuFeature.class) : c.features()),
                fixture);
    }

    @Test
    void kvm091() {
        check("kvm-0.9.1", 0, 9, 1, EnumSet.of(USBDEVICE, LOCALTIME, RUNAS, CHROOT, NO_ACPI, DRIVE_BOOT_ON, NO_KVM));
        assertEquals("virtio", fixture("kvm-0.9.1").paravirtualNicModel());
    }

    @Test
    void kvm0125() {
        check("kvm-0.12.5", 0, 12, 5, EnumSet.of(NETDEV, DEVICE, ENABLE_KVM, USBDEVICE, LOCALTIME, RTC, RUNAS, CHROOT,
                NO_ACPI, DRIVE_BOOT_ON, NO_KVM, SMP_TOPOLOGY, DRIVE_AIO, CHARDEV));
        assertEquals("virtio-net-pci", fixture("kvm-0.12.5").paravirtualNicModel());
    }

    @Test
    void qemuKvm10HasATwoPartVersion() {
        // Ganeti 2.4's _GetKVMVersion required three parts and could not start anything on this binary
        check("qemu-kvm-1.0", 1, 0, 0, EnumSet.of(NETDEV, DEVICE, VHOST, ENABLE_KVM, MACHINE, USBDEVICE, LOCALTIME, RTC,
                RUNAS, CHROOT, NO_ACPI, QMP, NO_KVM, SMP_TOPOLOGY, DRIVE_AIO, CHARDEV));
        assertEquals("1.0", fixture("qemu-kvm-1.0").versionText());
    }

    @Test
    void realQemu72() {
        check("qemu-7.2.22", 7, 2, 22, EnumSet.of(NETDEV, DEVICE, VHOST, NETDEV_TAP_FDS, ENABLE_KVM, ACCEL, MACHINE, DISPLAY,
                USBDEVICE, RTC, RUNAS, CHROOT, NO_ACPI, QMP, CHARDEV_LOGFILE, AUTO_READ_ONLY, OBJECT, SMP_TOPOLOGY, DRIVE_AIO, DRIVE_DISCARD,
                AUDIO, SPICE, CHARDEV, UUID, LOG_FILE));
    }

    /**
     * QEMU 8.2 (help/qemu-8.2.0.txt, derived from 7.2 by QEMU's removal and deprecation notes):
     * {@code -no-acpi}, {@code -chroot} and {@code -runas} still there, {@code -run-with} with
     * {@code chroot=} but without {@code user=}.
     */
    @Test
    void qemu82() {
        check("qemu-8.2.0", 8, 2, 0, EnumSet.of(NETDEV, DEVICE, VHOST, NETDEV_TAP_FDS, ENABLE_KVM, ACCEL, MACHINE, DISPLAY,
                USBDEVICE, RTC, RUNAS, CHROOT, RUN_WITH_CHROOT, NO_ACPI, QMP, CHARDEV_LOGFILE, AUTO_READ_ONLY, OBJECT,
                SMP_TOPOLOGY, DRIVE_AIO, DRIVE_DISCARD, AUDIO, SPICE, CHARDEV, UUID, LOG_FILE));
    }

    @Test
    void qemu9() {
        check("qemu-9.1.0", 9, 1, 0, EnumSet.of(NETDEV, DEVICE, VHOST, NETDEV_TAP_FDS, ENABLE_KVM, ACCEL, MACHINE, DISPLAY, RTC,
                RUN_WITH, RUN_WITH_CHROOT, QMP, CHARDEV_LOGFILE, AUTO_READ_ONLY, OBJECT, SMP_TOPOLOGY, DRIVE_AIO, DRIVE_DISCARD, CHARDEV, UUID,
                LOG_FILE));
    }

    @Test
    void noVersionNoCapabilities() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QemuCapabilities.parse("usage: qemu [options]\n-netdev tap\n"));
        assertEquals("Unable to get KVM version from the first line of --help: 'usage: qemu [options]'", e.getMessage());
    }

    @Test
    void gatesAreAnchoredToOptionLines() {
        // "vhost=on|off" in an unrelated line must not count (Ganeti's pre-2021 pattern matched anything)
        QemuCapabilities c = QemuCapabilities.parse("QEMU emulator version 5.0.0\n-netdev tap,id=str\n"
                + "-device virtio-net,vhost=on|off\n");
        assertEquals(false, c.has(VHOST));
        assertEquals(true, c.has(NETDEV));
        // boot=on in a -drive entry continued on the next line counts, in another option it does not
        assertEquals(true, QemuCapabilities.parse("QEMU 0.12.1\n-drive file=f\n       [,boot=on|off]\n").has(DRIVE_BOOT_ON));
        assertEquals(false, QemuCapabilities.parse("QEMU 0.12.1\n-drive file=f\n-other [,boot=on|off]\n").has(DRIVE_BOOT_ON));
    }
}
