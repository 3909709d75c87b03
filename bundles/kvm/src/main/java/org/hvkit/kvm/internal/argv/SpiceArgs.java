package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.CHARDEV;
import static org.hvkit.kvm.internal.caps.QemuFeature.DEVICE;
import static org.hvkit.kvm.internal.caps.QemuFeature.SPICE;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_BIND;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_IMAGE_COMPRESSION;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_JPEG_WAN_COMPRESSION;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_PASSWORD_FILE;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_PLAYBACK_COMPRESSION;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_STREAMING_VIDEO;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_USE_VDAGENT;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_ZLIB_GLZ_WAN_COMPRESSION;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.params.KvmParameters;

/**
 * The SPICE display of Ganeti 3.0 ({@code _GenerateKVMRuntime}): {@code -spice} on
 * {@code spice_bind}, port {@code network_port}, the compression and streaming choices, and the
 * agent channel (virtio-serial with a {@code spicevmc} chardev) unless {@code spice_use_vdagent}
 * is off. Without {@code spice_password_file} tickets are off ({@code disable-ticketing=on});
 * with it, the password is set over QMP after the start and never reaches a command line. Every
 * value is escaped; boolean options are spelt {@code =on}/{@code =off}, which every QEMU with
 * SPICE accepts.
 */
final class SpiceArgs {

    private SpiceArgs() {
    }

    /** Whether {@code spice_bind} is an address hvkit can put on the command line (no interface lookup). */
    static boolean isAddress(String bind) {
        return KvmParameters.isIpAddress(bind);
    }

    static void render(Argv a) throws HypervisorException {
        if (!a.caps.has(SPICE)) {
            throw new HypervisorException("SPICE is configured, but it is not supported according to 'kvm --help'");
        }
        int port = a.instance.networkPort();
        if (port <= 0 || port > 65535) {
            throw new HypervisorException("SPICE listens on the instance's network_port, which is " + port
                    + "; give the instance a network_port from 1 to 65535");
        }
        StringBuilder arg = new StringBuilder("addr=").append(QemuOpts.escape(a.str(SPICE_BIND)))
                .append(",port=").append(port);
        if (a.str(SPICE_PASSWORD_FILE).isEmpty()) {
            arg.append(",disable-ticketing=on");
        }
        // spice_ip_version adds ipv4/ipv6 only for an interface name (Ganeti 3.0); an address literal names its family
        option(a, arg, "image-compression", SPICE_IMAGE_COMPRESSION);
        option(a, arg, "jpeg-wan-compression", SPICE_JPEG_WAN_COMPRESSION);
        option(a, arg, "zlib-glz-wan-compression", SPICE_ZLIB_GLZ_WAN_COMPRESSION);
        option(a, arg, "streaming-video", SPICE_STREAMING_VIDEO);
        if (!a.bool(SPICE_PLAYBACK_COMPRESSION)) {
            arg.append(",playback-compression=off");
        }
        if (!a.bool(SPICE_USE_VDAGENT)) {
            arg.append(",agent-mouse=off");
        } else if (a.caps.has(DEVICE) && a.caps.has(CHARDEV)) {
            a.add("-device", "virtio-serial-pci,id=spice",
                    "-device", "virtserialport,bus=spice.0,chardev=spicechannel0,name=com.redhat.spice.0",
                    "-chardev", "spicevmc,id=spicechannel0,name=vdagent");
        } else {
            a.warn("spice_use_vdagent: this QEMU has no -device/-chardev for the agent channel; no SPICE agent");
        }
        a.add("-spice", arg.toString());
    }

    private static void option(Argv a, StringBuilder arg, String option, String parameter) {
        if (!a.str(parameter).isEmpty()) {
            arg.append(',').append(option).append('=').append(QemuOpts.escape(a.str(parameter)));
        }
    }
}
