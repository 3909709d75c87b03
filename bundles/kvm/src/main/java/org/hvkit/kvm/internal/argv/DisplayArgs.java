package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.DISPLAY;
import static org.hvkit.kvm.internal.caps.QemuFeature.OBJECT;
import static org.hvkit.kvm.internal.caps.QemuFeature.USBDEVICE;
import static org.hvkit.kvm.internal.params.KvmParameters.KEYMAP;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_BIND;
import static org.hvkit.kvm.internal.params.KvmParameters.USB_MOUSE;
import static org.hvkit.kvm.internal.params.KvmParameters.VGA;
import static org.hvkit.kvm.internal.params.KvmParameters.VNC_BIND_ADDRESS;
import static org.hvkit.kvm.internal.params.KvmParameters.VNC_PASSWORD_FILE;
import static org.hvkit.kvm.internal.params.KvmParameters.VNC_TLS;
import static org.hvkit.kvm.internal.params.KvmParameters.VNC_X509_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.VNC_X509_VERIFY;

import java.nio.file.Path;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.runtime.RuntimePaths;

/**
 * The USB pointer and the display: no display at all, SPICE ({@link SpiceArgs}), or VNC on a
 * unix socket or an address, with TLS and a password where asked for (the password itself is set
 * over QMP, never on a command line); then the VGA card ({@code vga}, {@code qxl} for SPICE as
 * Ganeti 3.0) and the keyboard layout ({@code keymap}: {@code -k}, a plain argument). TLS credential objects and {@code password=on} exist from QEMU 2.5; the old
 * {@code ,tls,x509=} form was removed in 3.1 (Ganeti #1338).
 */
final class DisplayArgs {

    private static final String VNC_TLS_ID = "vnctls0";

    private DisplayArgs() {
    }

    static void render(Argv a) throws HypervisorException {
        VncDisplay vnc = VncDisplay.of(a.str(VNC_BIND_ADDRESS), a.instance.networkPort());
        String mouse = a.str(USB_MOUSE);
        if (!mouse.isEmpty()) {
            usbPointer(a, mouse, true);
        } else if (vnc.kind() != VncDisplay.Kind.NONE) {
            usbPointer(a, "tablet", false);
        }
        boolean spice = false;
        switch (vnc.kind()) {
            case NONE:
                if (a.caps.has(DISPLAY)) {
                    a.add("-display", "none");
                } else {
                    a.add("-nographic");
                }
                if (!a.str(SPICE_BIND).isEmpty()) {
                    SpiceArgs.render(a);
                    spice = true;
                }
                break;
            case UNIX:
                // no TLS on a unix socket (as Ganeti); QEMU binds it, so its length matters
                Path socket = vnc.socket(a.instance.name());
                RuntimePaths.checkSocketPath(socket, "QEMU binds the VNC socket itself: use a shorter vnc_bind_address");
                a.add("-vnc", "unix:" + QemuOpts.escape(socket.toString()) + password(a));
                break;
            case INVALID_PORT:
                a.warn("Network port is not a valid VNC display (" + a.instance.networkPort() + " < "
                        + VncDisplay.BASE_PORT + "). Not starting VNC");
                a.add("-vnc", "none");
                break;
            default:
                tcp(a, vnc);
                break;
        }
        if (!spice && !a.str(SPICE_BIND).isEmpty()) {
            a.warn("spice_bind is ignored: VNC is configured, and only one of them can be used at a given time");
        }
        if (!a.str(VGA).isEmpty()) {
            a.add("-vga", a.str(VGA));
        } else if (spice) {
            a.add("-vga", "qxl");
        }
        if (!a.str(KEYMAP).isEmpty()) {
            a.add("-k", a.str(KEYMAP));
        }
    }

    private static void tcp(Argv a, VncDisplay vnc) {
        StringBuilder arg = new StringBuilder((vnc.allAddresses() ? "" : vnc.address()) + ":" + vnc.display());
        if (a.bool(VNC_TLS)) {
            String x509 = a.str(VNC_X509_PATH);
            if (modern(a)) {
                a.add("-object", x509.isEmpty() ? "tls-creds-anon,id=" + VNC_TLS_ID + ",endpoint=server"
                        : "tls-creds-x509,id=" + VNC_TLS_ID + ",endpoint=server,dir=" + QemuOpts.escape(x509)
                        + ",verify-peer=" + (a.bool(VNC_X509_VERIFY) ? "yes" : "no"));
                arg.append(",tls-creds=").append(VNC_TLS_ID);
            } else {
                arg.append(",tls");
                if (a.bool(VNC_X509_VERIFY)) {
                    arg.append(",x509verify=").append(QemuOpts.escape(x509));
                } else if (!x509.isEmpty()) {
                    arg.append(",x509=").append(QemuOpts.escape(x509));
                }
            }
        }
        a.add("-vnc", arg + password(a));
    }

    private static boolean modern(Argv a) {
        return a.caps.has(OBJECT) && a.caps.atLeast(2, 5);
    }

    private static String password(Argv a) {
        return a.str(VNC_PASSWORD_FILE).isEmpty() ? "" : modern(a) ? ",password=on" : ",password";
    }

    private static void usbPointer(Argv a, String kind, boolean explicit) {
        if (a.caps.has(USBDEVICE)) {
            if (explicit) {
                a.add("-usb");
            }
            a.add("-usbdevice", kind);
        } else {
            a.add("-usb", "-device", "usb-" + kind);
        }
    }
}
