package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.AUDIO;
import static org.hvkit.kvm.internal.caps.QemuFeature.SOUNDHW;
import static org.hvkit.kvm.internal.caps.QemuFeature.USBDEVICE;
import static org.hvkit.kvm.internal.params.KvmParameters.USB_DEVICES;

import java.util.Map;

import org.hvkit.hypervisor.HypervisorException;

/**
 * Ganeti 3.0's sound card ({@code soundhw}) and emulated USB devices ({@code usb_devices}).
 * The sound card is {@code -soundhw <model>} where the binary still has it, else (QEMU 7.1
 * removed it) {@code -audio driver=none,model=<model>}: a card without a host backend, as a
 * daemonized QEMU has no sound server. USB devices are {@code -usbdevice <name>} each where the
 * binary has it (Ganeti's form), else {@code -device usb-<name>}.
 */
final class PeripheralArgs {

    /** {@code -usbdevice} names whose qdev device is not {@code usb-<name>}. */
    private static final Map<String, String> USB_DEVICE_NAMES = Map.of("keyboard", "usb-kbd");

    private PeripheralArgs() {
    }

    static void render(Argv a) throws HypervisorException {
        String sound = a.str(org.hvkit.kvm.internal.params.KvmParameters.SOUNDHW);
        if (!sound.isEmpty()) {
            if (a.caps.has(SOUNDHW)) {
                a.add("-soundhw", sound);
            } else if (a.caps.has(AUDIO)) {
                a.add("-audio", "driver=none,model=" + QemuOpts.escape(sound));
            } else {
                throw new HypervisorException("soundhw " + sound + ": this QEMU has neither -soundhw nor -audio");
            }
        }
        String usb = a.str(USB_DEVICES);
        if (usb.isEmpty()) {
            return;
        }
        if (!a.args().contains("-usb")) {
            a.add("-usb");
        }
        for (String device : usb.split(",")) {
            if (a.caps.has(USBDEVICE)) {
                a.add("-usbdevice", device);
            } else {
                a.add("-device", QemuOpts.escape(USB_DEVICE_NAMES.getOrDefault(device, "usb-" + device)));
            }
        }
    }
}
