package org.hvkit.remote.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.aries.rsa.provider.tcp.TCPProvider;
import org.apache.aries.rsa.spi.Endpoint;
import org.hvkit.hypervisor.Hypervisor;
import org.junit.jupiter.api.Test;

/**
 * Where the exported endpoint listens (issue #16, docs/multi-host.md "Trust model"). Aries RSA
 * 1.16.1's TCP provider has no bind-address property: its {@code TCPServer} takes the endpoint's
 * {@code aries.rsa.hostname} and opens {@code new ServerSocket(port)}, the wildcard (a
 * {@code bindAddress} property came later, ARIES-2192, in no release served here). This test
 * exports a facade the way {@link RemoteExporter} does, with the address 127.0.0.1, and reads the
 * kernel's listening sockets in /proc/net/tcp and /proc/net/tcp6: the advertised endpoint names
 * 127.0.0.1, the socket is bound to every address. Should a newer provider bind to the
 * configured address, this fails — then set its property from {@code address} and turn this
 * test around.
 */
class ListeningAddressTest {

    @Test
    void theEndpointIsAdvertisedAtTheAddressButListensOnEveryAddress() throws Exception {
        Map<String, Object> props = new HashMap<>();
        props.put("objectClass", new String[] {Hypervisor.class.getName()});
        props.put(RemoteExporter.TCP_HOSTNAME, "127.0.0.1");
        props.put(RemoteExporter.TCP_PORT, "0");
        props.put(RemoteExporter.EXPORTED_INTERFACES, Hypervisor.class.getName());
        Hypervisor local = (Hypervisor) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Hypervisor.class}, (proxy, m, args) -> {
                    throw new UnsupportedOperationException(m.getName());
                });
        Endpoint endpoint = new TCPProvider().exportService(new HypervisorFacade(local, "node-b"), null, props,
                new Class<?>[] {Hypervisor.class});
        try {
            URI id = URI.create(endpoint.description().getId());
            assertEquals("127.0.0.1", id.getHost(), "advertised at the configured address");
            List<String> listening = listeningAddresses(id.getPort());
            assertFalse(listening.isEmpty(), "no listening socket on port " + id.getPort() + " in /proc/net/tcp*");
            assertEquals(List.of("*"), listening, "Aries RSA 1.16.1 binds the wildcard; if it binds the configured"
                    + " address now, use that (docs/multi-host.md, Trust model)");
        } finally {
            endpoint.close();
        }
    }

    /** The local addresses of the listening sockets on {@code port}: "*" for 0.0.0.0 and ::, else the hex address. */
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
                out.add(local[0].chars().allMatch(c -> c == '0') ? "*" : local[0].toLowerCase(Locale.ROOT));
            }
        }
        return out;
    }
}
