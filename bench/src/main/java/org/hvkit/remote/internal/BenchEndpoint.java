package org.hvkit.remote.internal;

import java.io.Closeable;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import org.apache.aries.rsa.provider.fastbin.FastBinProvider;
import org.apache.aries.rsa.spi.Endpoint;
import org.hvkit.hypervisor.Hypervisor;

/**
 * For the benchmarks' remote rows (bench/, issue #16): a local {@link Hypervisor} exported the
 * way {@link RemoteExporter} exports it in Karaf — behind a {@link HypervisorFacade}, through Aries
 * RSA 1.16.1's own {@code FastBinProvider} (its NIO server bound to the address, its
 * serialization, its proxy over a pooled connection), with the {@link SerialAllowList} installed —
 * but outside OSGi, without
 * ZooKeeper (which is not on a call's path). It lives in the remote bundle's package because only
 * that package may make facades; it is on the benchmark's class path, never in the bundle.
 */
public final class BenchEndpoint implements Closeable {

    private final FastBinProvider provider;
    private final Endpoint endpoint;
    private final Hypervisor proxy;

    private BenchEndpoint(FastBinProvider provider, Endpoint endpoint, Hypervisor proxy) {
        this.provider = provider;
        this.endpoint = endpoint;
        this.proxy = proxy;
    }

    /**
     * Exports {@code local} at {@code address} on a free port, with the given call timeout: one
     * provider (server and client) per endpoint, as one Karaf has one.
     */
    public static BenchEndpoint export(Hypervisor local, String address, long timeoutMillis) {
        SerialAllowList.install();
        FastBinProvider provider;
        try {
            provider = new FastBinProvider("tcp://" + address + ":0", address, timeoutMillis);
        } catch (Exception e) {
            throw new IllegalStateException("fastbin provider on " + address + ": " + e.getMessage(), e);
        }
        Map<String, Object> props = new HashMap<>();
        props.put("objectClass", new String[] {Hypervisor.class.getName()});
        props.put(RemoteExporter.EXPORTED_INTERFACES, Hypervisor.class.getName());
        props.put(RemoteExporter.EXPORTED_CONFIGS, RemoteExporter.FASTBIN_CONFIG);
        Endpoint endpoint = provider.exportService(new HypervisorFacade(local, local.node()), null, props,
                new Class<?>[] {Hypervisor.class});
        Hypervisor proxy = (Hypervisor) provider.importEndpoint(BenchEndpoint.class.getClassLoader(), null,
                new Class<?>[] {Hypervisor.class}, endpoint.description());
        return new BenchEndpoint(provider, endpoint, proxy);
    }

    /** The caller's side: what another host's Karaf would import. */
    public Hypervisor remote() {
        return proxy;
    }

    /** {@code tcp://address:port}: where the caller connects. */
    public String id() {
        return (String) endpoint.description().getProperties().get(FastBinProvider.FASTBIN_ADDRESS);
    }

    @Override
    public void close() throws IOException {
        try {
            endpoint.close();
        } finally {
            provider.close();
        }
    }
}
