package org.hvkit.remote.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.apache.aries.rsa.provider.fastbin.FastBinProvider;
import org.apache.aries.rsa.spi.Endpoint;
import org.hvkit.hypervisor.Hypervisor;
import org.junit.jupiter.api.Test;

/**
 * Where the exported endpoint listens (issue #16, docs/multi-host.md "Listening address"): the
 * fastbin provider started with what {@link RemoteExporter} writes into its PID for an
 * {@code address} listens on that address only — the kernel's listening sockets in /proc/net/tcp
 * and /proc/net/tcp6 say so — and advertises it; without an address it listens on the loopback
 * address, never on the wildcard (the provider's own default, {@code tcp://0.0.0.0:2543}).
 */
class ListeningAddressTest {

    @Test
    void theEndpointListensOnTheConfiguredAddressOnly() throws Exception {
        int port = freePort();
        RemoteConfig config = RemoteConfig.of(Map.of("address", "127.0.0.1", "port", port, "timeout.seconds", 900),
                RemoteConfig.LocalAddresses.SYSTEM);
        Hashtable<String, Object> pid = RemoteExporter.fastbin(config);
        assertEquals("tcp://127.0.0.1:" + port, pid.get(RemoteExporter.FASTBIN_URI));
        assertEquals("127.0.0.1", pid.get(RemoteExporter.FASTBIN_EXPORTED_ADDRESS));
        assertEquals("900000", pid.get(RemoteExporter.FASTBIN_TIMEOUT_MILLIS));
        assertListensOnLoopbackOnly(pid, port);
    }

    @Test
    void withoutAnAddressTheProviderListensOnTheLoopbackAddressOnly() throws Exception {
        int port = freePort();
        RemoteConfig config = RemoteConfig.of(Map.of("port", port), RemoteConfig.LocalAddresses.SYSTEM);
        Hashtable<String, Object> pid = RemoteExporter.fastbin(config);
        assertEquals("tcp://127.0.0.1:" + port, pid.get(RemoteExporter.FASTBIN_URI));
        assertListensOnLoopbackOnly(pid, port);
    }

    @Test
    void anIpv6AddressIsBracketedInTheUriAndTheAdvertisedAddress() {
        RemoteConfig config = RemoteConfig.of(Map.of("address", "::1", "port", 8201), RemoteConfig.LocalAddresses.SYSTEM);
        Hashtable<String, Object> pid = RemoteExporter.fastbin(config);
        assertEquals("tcp://[0:0:0:0:0:0:0:1]:8201", pid.get(RemoteExporter.FASTBIN_URI));
        assertEquals("[0:0:0:0:0:0:0:1]", pid.get(RemoteExporter.FASTBIN_EXPORTED_ADDRESS));
        assertEquals(8201, URI.create((String) pid.get(RemoteExporter.FASTBIN_URI)).getPort());
    }

    private static void assertListensOnLoopbackOnly(Hashtable<String, Object> pid, int port) throws Exception {
        FastBinProvider provider = new FastBinProvider((String) pid.get(RemoteExporter.FASTBIN_URI),
                (String) pid.get(RemoteExporter.FASTBIN_EXPORTED_ADDRESS),
                Long.parseLong((String) pid.get(RemoteExporter.FASTBIN_TIMEOUT_MILLIS)));
        try {
            Hypervisor local = (Hypervisor) java.lang.reflect.Proxy.newProxyInstance(
                    ListeningAddressTest.class.getClassLoader(), new Class<?>[] {Hypervisor.class}, (proxy, m, args) -> {
                        throw new UnsupportedOperationException(m.getName());
                    });
            Endpoint endpoint = RemoteEndpointTest.export(provider, new HypervisorFacade(local, "node-b"));
            try {
                URI advertised = URI.create((String) endpoint.description().getProperties()
                        .get(FastBinProvider.FASTBIN_ADDRESS));
                assertEquals("127.0.0.1", advertised.getHost(), "advertised at the configured address");
                assertEquals(port, advertised.getPort());
                // a dual-stack NIO socket bound to 127.0.0.1 is listed in /proc/net/tcp6 as ::ffff:127.0.0.1
                assertEquals(List.of("127.0.0.1"), listeningAddresses(port), "bound to 127.0.0.1 only, not the wildcard");
            } finally {
                endpoint.close();
            }
        } finally {
            provider.close();
        }
        assertEquals(List.of(), listeningAddresses(port), "closed with the provider");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * The local addresses of the listening sockets on {@code port}: "*" for 0.0.0.0 and ::, else the
     * address (an IPv4-mapped IPv6 one as its IPv4 address).
     */
    static List<String> listeningAddresses(int port) throws IOException {
        List<String> out = new ArrayList<>();
        for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path p = Path.of(file);
            if (!Files.exists(p)) {
                continue;
            }
            for (String line : Files.readAllLines(p)) {
                String[] f = line.trim().split("\\s+");
                // sl local_address rem_address st ...; st 0A is LISTEN
                if (f.length < 4 || !f[3].equals("0A") || !f[1].contains(":")) {
                    continue;
                }
                String[] local = f[1].split(":");
                if (Integer.parseInt(local[1], 16) != port) {
                    continue;
                }
                InetAddress address = address(local[0]);
                out.add(address.isAnyLocalAddress() ? "*" : address.getHostAddress());
            }
        }
        return out;
    }

    /** The kernel's hex form: 32-bit words in host (little-endian) byte order. */
    private static InetAddress address(String hex) throws IOException {
        byte[] bytes = new byte[hex.length() / 2];
        for (int word = 0; word < bytes.length / 4; word++) {
            for (int i = 0; i < 4; i++) {
                int at = (word * 4 + i) * 2;
                bytes[word * 4 + 3 - i] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
            }
        }
        return InetAddress.getByAddress(bytes);
    }
}
