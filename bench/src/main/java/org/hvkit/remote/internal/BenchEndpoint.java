package org.hvkit.remote.internal;

import java.io.Closeable;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import org.apache.aries.rsa.provider.tcp.TCPProvider;
import org.apache.aries.rsa.spi.Endpoint;
import org.hvkit.hypervisor.Hypervisor;

/**
 * For the benchmarks' remote rows (bench/, issue #16): a local {@link Hypervisor} exported the
 * way {@link RemoteExporter} exports it in Karaf — behind a {@link HypervisorFacade}, through Aries
 * RSA 1.16.1's own {@code TCPProvider} (its server socket, its serialization, its proxy, one
 * connection per call), with the {@link SerialAllowList} installed — but outside OSGi, without
 * ZooKeeper (which is not on a call's path). It lives in the remote bundle's package because only
 * that package may make facades; it is on the benchmark's class path, never in the bundle.
 */
public final class BenchEndpoint implements Closeable {

    private final Endpoint endpoint;
    private final Hypervisor proxy;

    private BenchEndpoint(Endpoint endpoint, Hypervisor proxy) {
        this.endpoint = endpoint;
        this.proxy = proxy;
    }

    /** Exports {@code local} at {@code address} on a free port, with the given call timeout. */
    public static BenchEndpoint export(Hypervisor local, String address, long timeoutMillis) {
        SerialAllowList.install();
        Map<String, Object> props = new HashMap<>();
        props.put("objectClass", new String[] {Hypervisor.class.getName()});
        props.put(RemoteExporter.TCP_HOSTNAME, address);
        props.put(RemoteExporter.TCP_PORT, "0");
        props.put(RemoteExporter.TCP_TIMEOUT_MILLIS, Long.toString(timeoutMillis));
        props.put(RemoteExporter.EXPORTED_INTERFACES, Hypervisor.class.getName());
        TCPProvider provider = new TCPProvider();
        Endpoint endpoint = provider.exportService(new HypervisorFacade(local, local.node()), null, props,
                new Class<?>[] {Hypervisor.class});
        Hypervisor proxy = (Hypervisor) provider.importEndpoint(BenchEndpoint.class.getClassLoader(), null,
                new Class<?>[] {Hypervisor.class}, endpoint.description());
        return new BenchEndpoint(endpoint, proxy);
    }

    /** The caller's side: what another host's Karaf would import. */
    public Hypervisor remote() {
        return proxy;
    }

    /** {@code tcp://address:port}. */
    public String id() {
        return endpoint.description().getId();
    }

    @Override
    public void close() throws IOException {
        endpoint.close();
    }
}
