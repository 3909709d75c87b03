package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.CHARDEV;
import static org.hvkit.kvm.internal.caps.QemuFeature.DEVICE;
import static org.hvkit.kvm.internal.caps.QemuFeature.SPICE;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_BIND;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_IMAGE_COMPRESSION;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_IP_VERSION;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_JPEG_WAN_COMPRESSION;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_PASSWORD_FILE;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_PLAYBACK_COMPRESSION;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_STREAMING_VIDEO;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_TLS_CIPHERS;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_USE_TLS;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_USE_VDAGENT;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_ZLIB_GLZ_WAN_COMPRESSION;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.params.KvmParameters;

/**
 * The SPICE display of Ganeti 3.0 ({@code _GenerateKVMRuntime}): {@code -spice} on
 * {@code spice_bind}, port {@code network_port}, the compression and streaming choices, and the
 * agent channel (virtio-serial with a {@code spicevmc} chardev) unless {@code spice_use_vdagent}
 * is off. Without {@code spice_password_file} tickets are off ({@code disable-ticketing=on});
 * with it, the password is set over QMP after the start and never reaches a command line.
 * {@code spice_bind} may name an interface: its address of the {@code spice_ip_version} family
 * goes on the command line with {@code ipv4=on}/{@code ipv6=on}. {@code spice_use_tls} moves
 * {@code network_port} to {@code tls-port=} with the node's certificate files
 * ({@link SpiceNode}) and {@code spice_tls_ciphers}. Every value is escaped; boolean options are
 * spelt {@code =on}/{@code =off}, which every QEMU with SPICE accepts.
 */
final class SpiceArgs {

    private SpiceArgs() {
    }

    /** Whether {@code spice_bind} is an address literal (else it names an interface). */
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
        String bind = a.str(SPICE_BIND);
        int ipVersion = 0;
        String address = bind;
        if (!isAddress(bind)) {
            ipVersion = interfaceVersion(a, bind);
            address = interfaceAddress(a, bind, ipVersion);
        }
        StringBuilder arg = new StringBuilder("addr=").append(QemuOpts.escape(address));
        if (a.bool(SPICE_USE_TLS)) {
            tls(a, arg, port);
        } else {
            arg.append(",port=").append(port);
        }
        if (a.str(SPICE_PASSWORD_FILE).isEmpty()) {
            arg.append(",disable-ticketing=on");
        }
        // Ganeti 3.0 adds ipv4/ipv6 only for an interface name; an address literal names its family
        if (ipVersion != 0) {
            arg.append(",ipv").append(ipVersion).append("=on");
        }
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

    /**
     * Ganeti 3.0's choice of family for an interface: {@code spice_ip_version} when set (the
     * interface must have such an address), else the one family it has; with both, IPv4 (Ganeti
     * takes the cluster's primary IP family; an hvkit node has no cluster).
     */
    private static int interfaceVersion(Argv a, String bind) throws HypervisorException {
        Object v = a.hv.get(SPICE_IP_VERSION);
        int wanted = v instanceof Number ? ((Number) v).intValue() : 0;
        List<InetAddress> all = a.spice.interfaces().addresses(bind);
        boolean v4 = all.stream().anyMatch(x -> x instanceof Inet4Address);
        boolean v6 = all.stream().anyMatch(x -> x instanceof Inet6Address);
        if (wanted == 4 || wanted == 6) {
            if (!(wanted == 4 ? v4 : v6)) {
                throw new HypervisorException("SPICE: Unable to get an IPv" + wanted + " address for " + bind);
            }
            return wanted;
        }
        if (!v4 && !v6) {
            throw new HypervisorException("SPICE: Unable to get an IP address for " + bind);
        }
        return v4 ? 4 : 6;
    }

    /** The interface's first address of that family, as {@code getHostAddress} spells it (no scope). */
    private static String interfaceAddress(Argv a, String bind, int version) {
        for (InetAddress x : a.spice.interfaces().addresses(bind)) {
            if (version == 4 ? x instanceof Inet4Address : x instanceof Inet6Address) {
                String text = x.getHostAddress();
                int scope = text.indexOf('%');
                return scope < 0 ? text : text.substring(0, scope);
            }
        }
        throw new IllegalStateException("no IPv" + version + " address of " + bind + " any more");
    }

    /**
     * Ganeti 3.0's TLS: the instance's port becomes {@code tls-port=} (no plain port), with the
     * CA file, the node's certificate file as key and certificate, and the cipher list.
     */
    private static void tls(Argv a, StringBuilder arg, int port) throws HypervisorException {
        if (!a.spice.hasCertificates()) {
            throw new HypervisorException(SPICE_USE_TLS + " true: SPICE over TLS needs the node's SPICE certificate"
                    + " files, and this node has none (set spice.certificate and spice.ca.certificate in its"
                    + " configuration), or set " + SPICE_USE_TLS + " to false");
        }
        String cert = QemuOpts.escape(a.spice.certificate().toString());
        arg.append(",tls-port=").append(port)
                .append(",x509-cacert-file=").append(QemuOpts.escape(a.spice.caCertificate().toString()))
                .append(",x509-key-file=").append(cert)
                .append(",x509-cert-file=").append(cert);
        option(a, arg, "tls-ciphers", SPICE_TLS_CIPHERS);
    }

    private static void option(Argv a, StringBuilder arg, String option, String parameter) {
        if (!a.str(parameter).isEmpty()) {
            arg.append(',').append(option).append('=').append(QemuOpts.escape(a.str(parameter)));
        }
    }
}
