package org.hvkit.remote.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.apache.aries.rsa.provider.fastbin.FastBinProvider;
import org.hvkit.hypervisor.Hypervisor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * How {@link RemoteExporter} drives the fastbin provider (docs/multi-host.md, "hvkit writes the
 * fastbin provider's PID"), with the framework and Configuration Admin played by proxies: the PID
 * is written only when it differs, and a facade is registered only while a provider (Aries RSA's
 * real {@code FastBinProvider}) is there whose server is bound to the configured address and port
 * — never on a provider that still runs the old address, nor on one bound to the wildcard.
 */
class RemoteExporterTest {

    /** The provider PID's properties, null while it does not exist; what was written. */
    private Dictionary<String, Object> fastbinPid;
    private final List<Dictionary<String, Object>> written = new ArrayList<>();
    /** Providers started by a test, closed after it. */
    private final List<FastBinProvider> started = new ArrayList<>();
    /** Facades registered, and unregistered. */
    private final List<Dictionary<String, ?>> registered = new ArrayList<>();
    private final List<Dictionary<String, ?>> unregistered = new ArrayList<>();

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, java.lang.reflect.InvocationHandler handler) {
        return (T) Proxy.newProxyInstance(RemoteExporterTest.class.getClassLoader(), new Class<?>[] {type}, handler);
    }

    private static ServiceReference<?> reference(Map<String, Object> properties) {
        return proxy(ServiceReference.class, (p, m, a) -> m.getName().equals("getProperty") ? properties.get(a[0]) : null);
    }

    private static ServiceReference<?> provider(long id) {
        return reference(Map.of("service.id", id, "remote.configs.supported", new String[] {"aries.fastbin"}));
    }

    /** A real provider whose server is bound to {@code uri}. */
    private FastBinProvider fastbin(String uri) throws Exception {
        FastBinProvider p = new FastBinProvider(uri, "127.0.0.1", 10_000);
        started.add(p);
        return p;
    }

    @AfterEach
    void closeProviders() {
        started.forEach(FastBinProvider::close);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @SuppressWarnings("unchecked")
    private RemoteExporter exporter(Map<String, Object> config) {
        Configuration pid = proxy(Configuration.class, (p, m, a) -> {
            switch (m.getName()) {
                case "getProperties": return fastbinPid;
                case "update":
                    fastbinPid = (Dictionary<String, Object>) a[0];
                    written.add(fastbinPid);
                    return null;
                default: throw new UnsupportedOperationException(m.getName());
            }
        });
        ConfigurationAdmin cm = proxy(ConfigurationAdmin.class, (p, m, a) -> {
            assertEquals("getConfiguration", m.getName());
            assertEquals(RemoteExporter.FASTBIN_PID, a[0]);
            return pid;
        });
        BundleContext context = proxy(BundleContext.class, (p, m, a) -> {
            switch (m.getName()) {
                case "registerService":
                    Dictionary<String, ?> props = (Dictionary<String, ?>) a[2];
                    registered.add(props);
                    return proxy(ServiceRegistration.class, (rp, rm, ra) -> {
                        if (rm.getName().equals("unregister")) {
                            unregistered.add(props);
                        }
                        return null;
                    });
                default: throw new UnsupportedOperationException(m.getName());
            }
        });
        return new RemoteExporter(context, config, cm);
    }

    private static Hypervisor hypervisor() {
        return proxy(Hypervisor.class, (p, m, a) -> {
            throw new UnsupportedOperationException(m.getName());
        });
    }

    @SuppressWarnings("unchecked")
    private static ServiceReference<Hypervisor> hypervisorReference(String node) {
        return (ServiceReference<Hypervisor>) reference(Map.of(Hypervisor.TYPE_PROPERTY, "fake",
                Hypervisor.NODE_PROPERTY, node));
    }

    @Test
    void aChangedAddressIsWrittenAndExportedOnlyByAProviderBoundToIt() throws Exception {
        int port = freePort();
        int old = freePort();
        fastbinPid = new Hashtable<>(Map.of("uri", "tcp://127.0.0.1:" + old, "exportedAddress", "127.0.0.1",
                "timeout", "900000", "other.key", "kept"));
        RemoteExporter exporter = exporter(Map.of("address", "127.0.0.1", "port", port, "timeout.seconds", 60));
        assertEquals(1, written.size());
        assertEquals("tcp://127.0.0.1:" + port, fastbinPid.get("uri"));
        assertEquals("127.0.0.1", fastbinPid.get("exportedAddress"));
        assertEquals("60000", fastbinPid.get("timeout"));
        assertEquals("kept", fastbinPid.get("other.key"), "keys hvkit does not own are left alone");

        // the provider still on the old configuration (registered after the write: CM is asynchronous)
        FastBinProvider before = fastbin("tcp://127.0.0.1:" + old);
        exporter.addProvider(before, provider(5));
        Hypervisor hv = hypervisor();
        exporter.addHypervisor(hv, hypervisorReference("node-a"));
        assertTrue(registered.isEmpty(), "nothing exported through the provider on the old address");
        exporter.removeProvider(provider(5));
        before.close();

        // one on the wildcard with the right port (a PID edited by hand): refused too
        FastBinProvider wildcard = fastbin("tcp://0.0.0.0:" + port);
        InetSocketAddress bound = RemoteExporter.boundTo(wildcard);
        assertTrue(bound.getAddress().isAnyLocalAddress() && bound.getPort() == port, "told where it listens: " + bound);
        exporter.addProvider(wildcard, provider(7));
        assertTrue(registered.isEmpty(), "nothing exported through a provider on the wildcard");
        exporter.removeProvider(provider(7));
        wildcard.close();

        FastBinProvider restarted = fastbin("tcp://127.0.0.1:" + port); // restarted on the written configuration
        exporter.addProvider(restarted, provider(9));
        assertEquals(1, registered.size());
        Dictionary<String, ?> facade = registered.get(0);
        assertEquals("aries.fastbin", facade.get("service.exported.configs"));
        assertEquals(Hypervisor.class.getName(), facade.get("service.exported.interfaces"));
        assertEquals("node-a", facade.get(Hypervisor.NODE_PROPERTY));
        assertEquals(Boolean.TRUE, facade.get(Hypervisor.FACADE_PROPERTY));

        exporter.removeProvider(provider(9)); // the provider restarts again: the facade goes with it
        assertEquals(List.of(facade), unregistered);
        exporter.addProvider(restarted, provider(11));
        assertEquals(2, registered.size(), "and comes back with the provider");
        exporter.removeHypervisor(hv);
        assertEquals(2, unregistered.size());
        exporter.deactivate();
    }

    @Test
    void anUnchangedConfigurationIsNotWrittenAndTheRunningProviderExports() throws Exception {
        int port = freePort();
        fastbinPid = new Hashtable<>(RemoteExporter.fastbin(RemoteConfig.of(Map.of("address", "127.0.0.1",
                "port", port), RemoteConfig.LocalAddresses.SYSTEM)));
        RemoteExporter exporter = exporter(Map.of("address", "127.0.0.1", "port", port));
        assertTrue(written.isEmpty(), "no restart of the provider for nothing");
        exporter.addHypervisor(hypervisor(), hypervisorReference("node-a"));
        exporter.addProvider(fastbin("tcp://127.0.0.1:" + port), provider(5));
        assertEquals(1, registered.size());
        exporter.deactivate();
        assertEquals(1, unregistered.size());
    }

    @Test
    void withoutAnAddressTheProviderIsKeptOnTheLoopbackAddressAndNothingIsExported() throws Exception {
        RemoteExporter exporter = exporter(new HashMap<>());
        assertEquals("tcp://127.0.0.1:8201", fastbinPid.get("uri"), "the PID did not exist: written");
        assertEquals("900000", fastbinPid.get("timeout"), "the timeout of this host's own calls still applies");
        exporter.addProvider(fastbin("tcp://127.0.0.1:" + freePort()), provider(3));
        exporter.addHypervisor(hypervisor(), hypervisorReference("node-a"));
        assertTrue(registered.isEmpty());
        assertNull(fastbinPid.get("other.key"));
        exporter.deactivate();
    }
}
