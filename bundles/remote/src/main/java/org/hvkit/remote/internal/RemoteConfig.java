package org.hvkit.remote.internal;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The configuration of PID {@value #PID} (etc/org.hvkit.remote.cfg), checked: every bad value
 * is an {@link IllegalArgumentException} naming the key and what it allows.
 *
 * @param address        the management IP to bind and advertise, or null: then nothing is exported
 *                       (and the fastbin provider, which always listens, listens on 127.0.0.1)
 * @param port           the fastbin provider's port (one server for every exported hypervisor)
 * @param timeoutSeconds how long a call this host makes to another may take before it gives up
 *                       (the fastbin provider's {@code timeout}, one for every call)
 */
record RemoteConfig(InetAddress address, int port, long timeoutSeconds) {

    static final String PID = "org.hvkit.remote";
    static final String ADDRESS = "address";
    static final String PORT = "port";
    static final String TIMEOUT = "timeout.seconds";

    static final int DEFAULT_PORT = 8201;
    /** Long enough for a live migration of a large guest and a clean stop (120 s by default). */
    static final long DEFAULT_TIMEOUT_SECONDS = 900;
    /** Kept within an int of milliseconds, what Remote Services' {@code osgi.basic.timeout} allows. */
    static final long MAX_TIMEOUT_SECONDS = Integer.MAX_VALUE / 1000;

    /** IPv4 dotted quad or an IPv6 literal: never a name, which would need a resolver to judge. */
    private static final Pattern IP_LITERAL = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    /** Reads and checks {@code properties}; {@code local} says whether an address belongs to this host. */
    static RemoteConfig of(Map<String, ?> properties, LocalAddresses local) {
        InetAddress address = address(properties.get(ADDRESS), local);
        int port = (int) number(properties.get(PORT), PORT, DEFAULT_PORT, 1, 65535);
        long timeout = number(properties.get(TIMEOUT), TIMEOUT, DEFAULT_TIMEOUT_SECONDS, 1, MAX_TIMEOUT_SECONDS);
        return new RemoteConfig(address, port, timeout);
    }

    /** Whether hypervisors are exported (an address is configured). */
    boolean exports() {
        return address != null;
    }

    private static InetAddress address(Object value, LocalAddresses local) {
        String text = value == null ? "" : value.toString().trim();
        if (text.isEmpty()) {
            return null;
        }
        String allowed = " (allowed: an IP address of this host's management interface; never 0.0.0.0 or ::)";
        if (!IP_LITERAL.matcher(text).matches()) {
            throw new IllegalArgumentException(PID + ": " + ADDRESS + " '" + printable(text) + "' is not an IP address"
                    + allowed);
        }
        InetAddress ip;
        try {
            ip = InetAddress.getByName(text); // a literal: no lookup
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(PID + ": " + ADDRESS + " '" + printable(text) + "' is not an IP address"
                    + allowed);
        }
        if (ip.isAnyLocalAddress() || ip.isMulticastAddress()) {
            throw new IllegalArgumentException(PID + ": " + ADDRESS + " " + ip.getHostAddress()
                    + " is not one address" + allowed);
        }
        if (!local.isLocal(ip)) {
            throw new IllegalArgumentException(PID + ": " + ADDRESS + " " + ip.getHostAddress()
                    + " is not an address of this host" + allowed);
        }
        return ip;
    }

    private static long number(Object value, String key, long dflt, long min, long max) {
        if (value == null || value.toString().trim().isEmpty()) {
            return dflt;
        }
        long n;
        try {
            n = value instanceof Number num && !(value instanceof Double || value instanceof Float) ? num.longValue()
                    : Long.parseLong(value.toString().trim());
        } catch (NumberFormatException e) {
            n = min - 1;
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(PID + ": " + key + " '" + printable(value.toString())
                    + "' is not allowed (allowed: an integer " + min + ".." + max + ")");
        }
        return n;
    }

    private static String printable(String s) {
        String cut = s.length() > 64 ? s.substring(0, 64) + "…" : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }

    /** Which addresses belong to this host (a seam for tests). */
    interface LocalAddresses {
        boolean isLocal(InetAddress address);

        /** This host's interfaces, as the kernel lists them. */
        LocalAddresses SYSTEM = address -> {
            try {
                return NetworkInterface.getByInetAddress(address) != null;
            } catch (SocketException e) {
                return false;
            }
        };
    }
}
