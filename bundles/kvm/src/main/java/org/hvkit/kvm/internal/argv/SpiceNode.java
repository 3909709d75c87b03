package org.hvkit.kvm.internal.argv;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

/**
 * What SPICE needs from the node, beyond the instance: the certificate files for
 * {@code spice_use_tls} (Ganeti 3.0's {@code pathutils.SPICE_CERT_FILE}, key and certificate in
 * one PEM file, and {@code SPICE_CACERT_FILE}; hvkit has no cluster, so the node configuration
 * names them: {@code spice.certificate}, {@code spice.ca.certificate}; null where not
 * configured) and how an interface name in {@code spice_bind} becomes addresses.
 */
public record SpiceNode(Path certificate, Path caCertificate, Interfaces interfaces) {

    /** A node without SPICE certificates that looks interfaces up in the running system. */
    public static final SpiceNode SYSTEM = new SpiceNode(null, null, SpiceNode::systemAddresses);

    /** The addresses of a network interface of this host, in the order the system lists them; empty if none. */
    @FunctionalInterface
    public interface Interfaces {
        List<InetAddress> addresses(String name);
    }

    public SpiceNode {
        if ((certificate == null) != (caCertificate == null)) {
            throw new IllegalArgumentException("spice.certificate and spice.ca.certificate go together");
        }
    }

    /** These certificates with another way to look interfaces up. */
    public SpiceNode withInterfaces(Interfaces other) {
        return new SpiceNode(certificate, caCertificate, other);
    }

    public boolean hasCertificates() {
        return certificate != null;
    }

    /**
     * The interface's addresses from {@link NetworkInterface}, without IPv6 link-local ones
     * (binding one needs a scope id, which {@code -spice addr=} cannot carry).
     */
    static List<InetAddress> systemAddresses(String name) {
        try {
            NetworkInterface nif = NetworkInterface.getByName(name);
            if (nif == null) {
                return List.of();
            }
            return Collections.list(nif.getInetAddresses()).stream()
                    .filter(a -> !(a instanceof Inet6Address && a.isLinkLocalAddress())).toList();
        } catch (SocketException e) {
            return List.of();
        }
    }
}
