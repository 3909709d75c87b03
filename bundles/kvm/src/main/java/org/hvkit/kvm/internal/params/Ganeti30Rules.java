package org.hvkit.kvm.internal.params;

import static org.hvkit.kvm.internal.params.KvmParameters.DISK_AIO;
import static org.hvkit.kvm.internal.params.KvmParameters.DISK_CACHE;
import static org.hvkit.kvm.internal.params.KvmParameters.KVM_EXTRA;
import static org.hvkit.kvm.internal.params.KvmParameters.KVM_PCI_RESERVATIONS;
import static org.hvkit.kvm.internal.params.KvmParameters.SERIAL_CONSOLE;
import static org.hvkit.kvm.internal.params.KvmParameters.SERIAL_SPEED;
import static org.hvkit.kvm.internal.params.KvmParameters.SERIAL_SPEEDS;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_BIND;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_IMAGE_COMPRESSION;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_IP_VERSION;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_JPEG_WAN_COMPRESSION;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_PASSWORD_FILE;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_STREAMING_VIDEO;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_USE_TLS;
import static org.hvkit.kvm.internal.params.KvmParameters.SPICE_ZLIB_GLZ_WAN_COMPRESSION;
import static org.hvkit.kvm.internal.params.KvmParameters.VNC_BIND_ADDRESS;
import static org.hvkit.kvm.internal.params.KvmParameters.bool;
import static org.hvkit.kvm.internal.params.KvmParameters.str;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.hvkit.hypervisor.ParameterChecks;
import org.hvkit.hypervisor.ParameterException;

/**
 * The cross-parameter rules of Ganeti 3.0 for the later parameters, with Ganeti's texts
 * ({@code lib/hypervisor/hv_kvm/validation.py}: {@code check_console_parameters},
 * {@code check_spice_parameters}, {@code check_disk_cache_parameters} on the master,
 * {@code validate_spice_parameters} on the node).
 */
final class Ganeti30Rules {

    /** Ganeti's {@code _SPICE_ADDITIONAL_PARAMS} (a frozenset there; a fixed order here). */
    static final List<String> SPICE_DEPENDENT = List.of(SPICE_IP_VERSION, SPICE_PASSWORD_FILE, SPICE_IMAGE_COMPRESSION,
            SPICE_JPEG_WAN_COMPRESSION, SPICE_ZLIB_GLZ_WAN_COMPRESSION, SPICE_STREAMING_VIDEO, SPICE_USE_TLS);

    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

    private Ganeti30Rules() {
    }

    static void checkSyntax(Map<String, ?> hv) throws ParameterException {
        if (bool(hv, SERIAL_CONSOLE) && !SERIAL_SPEEDS.contains(hv.get(SERIAL_SPEED))) {
            throw new ParameterException(SERIAL_SPEED, "Invalid serial console speed, must be one of: "
                    + SERIAL_SPEEDS.stream().map(String::valueOf).collect(Collectors.joining(", ")) + " ("
                    + SERIAL_SPEED + " is " + hv.get(SERIAL_SPEED) + ")");
        }
        checkSpice(hv);
        if ("native".equals(str(hv, DISK_AIO)) && !"none".equals(str(hv, DISK_CACHE))) {
            throw new ParameterException(DISK_AIO, "When 'disk_aio' is set to 'native', the only supported value"
                    + " for 'disk_cache' is 'none'.");
        }
    }

    private static void checkSpice(Map<String, ?> hv) throws ParameterException {
        String bind = str(hv, SPICE_BIND);
        if (bind.isEmpty()) {
            for (String param : SPICE_DEPENDENT) {
                if (!ParameterChecks.isFalsy(hv.get(param))) {
                    throw new ParameterException(param, "SPICE: " + param + " requires " + SPICE_BIND + " to be set");
                }
            }
            return;
        }
        Object version = hv.get(SPICE_IP_VERSION);
        if (ParameterChecks.isFalsy(version)) {
            return;
        }
        if (KvmParameters.isIpv4(bind) && !Long.valueOf(4).equals(version)) {
            throw new ParameterException(SPICE_IP_VERSION, "SPICE: Got an IPv4 address (" + bind
                    + "), but the specified IP version is " + version);
        }
        if (isIpv6(bind) && !Long.valueOf(6).equals(version)) {
            throw new ParameterException(SPICE_IP_VERSION, "SPICE: Got an IPv6 address (" + bind
                    + "), but the specified IP version is " + version);
        }
    }

    /** Ganeti's {@code validate_spice_parameters} without the help check (that is the argv builder's, per binary). */
    static void validate(Map<String, ?> hv, KvmParameters.Node node) throws ParameterException {
        String bind = str(hv, SPICE_BIND);
        if (bind.isEmpty()) {
            return;
        }
        if (!str(hv, VNC_BIND_ADDRESS).isEmpty()) {
            throw new ParameterException(SPICE_BIND, "Both SPICE and VNC are configured, but only one of them can"
                    + " be used at a given time");
        }
        if (!isIpAddress(bind) && !node.interfaceExists().test(bind)) {
            throw new ParameterException(SPICE_BIND, "SPICE: The " + SPICE_BIND + " parameter must be either a valid"
                    + " IP address or interface name");
        }
    }

    static void assess(Map<String, ?> hv, List<String> w) {
        if (!str(hv, KVM_EXTRA).isEmpty()) {
            w.add("kvm_extra passes " + KvmParameters.kvmExtra(hv).size() + " raw argument(s) to QEMU that hvkit"
                    + " neither checks nor escapes: " + str(hv, KVM_EXTRA));
        }
        Object pci = hv.get(KVM_PCI_RESERVATIONS);
        if (pci instanceof Number && ((Number) pci).longValue() < 3) {
            // slots 0-2: host bridge, ISA bridge, VGA (Ganeti 3.0's comment on _DEFAULT_PCI_RESERVATIONS)
            w.add("kvm_pci_reservations " + pci + " leaves QEMU fewer than 3 PCI slots: its host bridge, ISA bridge"
                    + " and VGA card (slots 0-2) collide with the slots hvkit gives disks, NICs and the balloon, and"
                    + " QEMU refuses the start");
        }
    }

    /** An IPv4 dotted quad or an IPv6 literal (no name lookup). */
    static boolean isIpAddress(String s) {
        return KvmParameters.isIpv4(s) || isIpv6(s);
    }

    /** An IPv6 literal such as {@code 2001:db8::1} (never resolved as a name). */
    static boolean isIpv6(String s) {
        if (!s.contains(":") || !IPV6_CHARS.matcher(s).matches()) {
            return false;
        }
        try {
            return InetAddress.getByName(s) instanceof Inet6Address;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
