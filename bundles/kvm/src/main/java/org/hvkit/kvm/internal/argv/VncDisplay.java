package org.hvkit.kvm.internal.argv;

import java.nio.file.Path;

import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.runtime.RuntimePaths;

/**
 * Where an instance's VNC server listens, decided once for the command line and the console
 * object alike: nowhere ({@code vnc_bind_address} empty), on a unix socket
 * {@code <dir>/<name>.vnc} (the address is a directory), on {@code address:display} with
 * display = {@code network_port} - 5900, or — a port at or below 5900 — nowhere, with a warning.
 *
 * @param kind    the kind of endpoint
 * @param address the bind address (IPv4) or the socket's directory
 * @param display the VNC display number (TCP only)
 */
public record VncDisplay(Kind kind, String address, int display) {

    /** Ganeti's VNC_BASE_PORT. */
    public static final int BASE_PORT = 5900;

    public enum Kind { NONE, UNIX, TCP, INVALID_PORT }

    public static VncDisplay of(String bindAddress, int networkPort) {
        if (bindAddress.isEmpty()) {
            return new VncDisplay(Kind.NONE, "", 0);
        }
        if (!KvmParameters.isIpv4(bindAddress)) {
            return new VncDisplay(Kind.UNIX, bindAddress, 0);
        }
        if (networkPort <= BASE_PORT) {
            return new VncDisplay(Kind.INVALID_PORT, bindAddress, 0);
        }
        return new VncDisplay(Kind.TCP, bindAddress, networkPort - BASE_PORT);
    }

    /** The unix socket of instance {@code name} (kind UNIX). */
    public Path socket(String name) {
        return RuntimePaths.vncSocket(address, name);
    }

    /** Listening on every address: a console must name the node instead. */
    public boolean allAddresses() {
        return "0.0.0.0".equals(address);
    }
}
