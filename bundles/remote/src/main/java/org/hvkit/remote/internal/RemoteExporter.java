package org.hvkit.remote.internal;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.apache.aries.rsa.spi.DistributionProvider;

import org.hvkit.hypervisor.Hypervisor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exports this Karaf's hypervisors to the others (issue #16, docs/multi-host.md): for every
 * local {@link Hypervisor} service it registers a {@link HypervisorFacade} with the Remote
 * Services properties that make Aries RSA's topology manager hand it to the fastbin provider.
 * Configured by PID {@value RemoteConfig#PID}; without {@code address} nothing is exported
 * (services of other hosts are still imported: that is Aries RSA's discovery, not this component).
 *
 * <p><b>The listening address.</b> Aries RSA 1.16.1's fastbin provider runs one server per
 * Karaf, bound to the {@code uri} of its own PID {@value #FASTBIN_PID} (default
 * {@code tcp://0.0.0.0:2543}), advertising {@code exportedAddress}, with {@code timeout} (ms) for
 * every call this host makes. This component writes that PID from its own: {@code uri} =
 * tcp://address:port, {@code exportedAddress} = address, {@code timeout} = timeout.seconds; without
 * an address, the loopback address (the provider always listens: then only on 127.0.0.1). The
 * feature ships the same loopback configuration so that the provider never starts on the
 * wildcard. A written configuration restarts the provider (its ManagedService); facades are
 * registered only while a provider is there whose server socket is bound to exactly the
 * configured address and port ({@link #boundTo}), so nothing is ever advertised at the provider's
 * previous address (or at the wildcard, should its PID be edited behind hvkit's back).
 *
 * <p>The component also installs the deserialization allow-list ({@link SerialAllowList}), which
 * guards imports as well; if it cannot, nothing is exported.
 */
@Component(service = {}, immediate = true, configurationPid = RemoteConfig.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
public final class RemoteExporter {

    private static final Logger LOG = LoggerFactory.getLogger(RemoteExporter.class);

    /** Remote Services properties (OSGi Compendium, RemoteConstants). */
    static final String EXPORTED_INTERFACES = "service.exported.interfaces";
    static final String EXPORTED_CONFIGS = "service.exported.configs";
    static final String SERVICE_IMPORTED = "service.imported";
    /** Aries RSA 1.16.1's fastbin provider: its config type, its PID and that PID's keys (its Activator). */
    static final String FASTBIN_CONFIG = "aries.fastbin";
    static final String FASTBIN_PID = "org.apache.aries.rsa.provider.fastbin";
    static final String FASTBIN_URI = "uri";
    static final String FASTBIN_EXPORTED_ADDRESS = "exportedAddress";
    static final String FASTBIN_TIMEOUT_MILLIS = "timeout";
    /** The provider's DistributionProvider service (Aries RSA's SPI; remote.configs.supported). */
    static final String FASTBIN_PROVIDER = "(remote.configs.supported=" + FASTBIN_CONFIG + ")";

    /** Local hypervisors only: not our own facades, not services imported from other hosts. */
    static final String LOCAL = "(&" + Hypervisor.NOT_FACADE_FILTER + "(!(" + SERVICE_IMPORTED + "=*)))";

    private final BundleContext context;
    private final RemoteConfig config;
    private final boolean guarded;
    /** Where the provider's server must be bound before anything is exported through it. */
    private final InetSocketAddress bind;
    private final Map<Hypervisor, ServiceReference<Hypervisor>> local = new IdentityHashMap<>();
    private final Map<Hypervisor, ServiceRegistration<Hypervisor>> exported = new IdentityHashMap<>();
    private long provider = -1;
    private boolean active = true;

    @Activate
    public RemoteExporter(BundleContext context, Map<String, Object> properties,
            @Reference(name = "configurationAdmin") ConfigurationAdmin configurationAdmin) {
        this.context = context;
        this.config = RemoteConfig.of(properties, RemoteConfig.LocalAddresses.SYSTEM);
        boolean ok;
        try {
            SerialAllowList.install();
            ok = true;
        } catch (IllegalStateException e) {
            LOG.error("{}", e.getMessage());
            ok = false;
        }
        this.guarded = ok;
        configureProvider(configurationAdmin);
        this.bind = new InetSocketAddress(config.address() != null ? config.address()
                : InetAddress.getLoopbackAddress(), config.port());
        if (!config.exports()) {
            LOG.info("{}: no address configured: no hypervisor of this host is exported", RemoteConfig.PID);
        } else {
            LOG.info("Exporting this host's hypervisors at {} (call timeout {} s)", fastbin(config).get(FASTBIN_URI),
                    config.timeoutSeconds());
        }
    }

    /** What PID {@value #FASTBIN_PID} must hold for {@code config}. */
    static Hashtable<String, Object> fastbin(RemoteConfig config) {
        InetAddress address = config.address() != null ? config.address() : InetAddress.getLoopbackAddress();
        String host = address instanceof Inet6Address ? "[" + address.getHostAddress() + "]" : address.getHostAddress();
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(FASTBIN_URI, "tcp://" + host + ":" + config.port());
        props.put(FASTBIN_EXPORTED_ADDRESS, host);
        props.put(FASTBIN_TIMEOUT_MILLIS, Long.toString(config.timeoutSeconds() * 1000));
        return props;
    }

    /** Writes PID {@value #FASTBIN_PID} when it differs from what this configuration needs. */
    private void configureProvider(ConfigurationAdmin configurationAdmin) {
        Hashtable<String, Object> wanted = fastbin(config);
        try {
            Configuration c = configurationAdmin.getConfiguration(FASTBIN_PID, "?");
            Dictionary<String, Object> current = c.getProperties();
            boolean same = current != null && wanted.keySet().stream()
                    .allMatch(k -> wanted.get(k).equals(String.valueOf(current.get(k))));
            if (same) {
                return;
            }
            Hashtable<String, Object> merged = new Hashtable<>();
            if (current != null) {
                for (java.util.Enumeration<String> keys = current.keys(); keys.hasMoreElements();) {
                    String k = keys.nextElement();
                    merged.put(k, current.get(k));
                }
            }
            merged.putAll(wanted);
            c.update(merged);
            LOG.info("{}: uri {}, exportedAddress {}, timeout {} ms (from {})", FASTBIN_PID, wanted.get(FASTBIN_URI),
                    wanted.get(FASTBIN_EXPORTED_ADDRESS), wanted.get(FASTBIN_TIMEOUT_MILLIS), RemoteConfig.PID);
        } catch (IOException e) {
            throw new IllegalStateException(RemoteConfig.PID + ": cannot write " + FASTBIN_PID + ": " + e.getMessage(), e);
        }
    }

    @Reference(service = DistributionProvider.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, target = FASTBIN_PROVIDER)
    void addProvider(DistributionProvider fastbin, ServiceReference<?> reference) {
        long id = (Long) reference.getProperty(Constants.SERVICE_ID);
        InetSocketAddress bound = boundTo(fastbin);
        if (!bind.equals(bound)) {
            LOG.info("The fastbin provider (service {}) is bound to {}, not {} (yet): nothing is exported through it", id,
                    bound, bind);
            return;
        }
        synchronized (this) {
            if (!active) {
                return;
            }
            provider = id;
            local.forEach(this::export);
        }
    }

    void removeProvider(ServiceReference<?> reference) {
        long id = (Long) reference.getProperty(Constants.SERVICE_ID);
        List<ServiceRegistration<Hypervisor>> all;
        synchronized (this) {
            if (id != provider) {
                return;
            }
            provider = -1;
            all = new ArrayList<>(exported.values());
            exported.clear();
        }
        all.forEach(RemoteExporter::unregister);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, target = LOCAL)
    void addHypervisor(Hypervisor hypervisor, ServiceReference<Hypervisor> reference) {
        if (!config.exports() || !guarded) {
            return;
        }
        Object type = reference.getProperty(Hypervisor.TYPE_PROPERTY);
        Object node = reference.getProperty(Hypervisor.NODE_PROPERTY);
        if (type == null || node == null) {
            LOG.warn("A hypervisor service without {} or {} is not exported: {}", Hypervisor.TYPE_PROPERTY,
                    Hypervisor.NODE_PROPERTY, reference);
            return;
        }
        synchronized (this) {
            if (!active) {
                return;
            }
            local.put(hypervisor, reference);
            export(hypervisor, reference);
        }
    }

    /**
     * The local address of the provider's server socket, or null if it cannot be told. Aries RSA
     * 1.16.1's {@code FastBinProvider.getServer()} returns its {@code ServerInvokerImpl}, whose
     * {@code getSocketAddress()} is the bound channel's local address (both public; the package is
     * private to the provider's bundle, hence reflection). The bound socket, not the PID, is the
     * truth: the provider applies its PID asynchronously, and may run an older one.
     */
    static InetSocketAddress boundTo(Object fastbin) {
        try {
            Object server = fastbin.getClass().getMethod("getServer").invoke(fastbin);
            Object address = server.getClass().getMethod("getSocketAddress").invoke(server);
            return address instanceof InetSocketAddress a ? a : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.error("Cannot tell where the fastbin provider {} listens ({}): nothing is exported through it", fastbin,
                    e.toString());
            return null;
        }
    }

    /** Registers the facade of {@code hypervisor} once the provider runs this configuration (under the lock). */
    private void export(Hypervisor hypervisor, ServiceReference<Hypervisor> reference) {
        if (provider < 0 || exported.containsKey(hypervisor)) {
            return;
        }
        String type = String.valueOf(reference.getProperty(Hypervisor.TYPE_PROPERTY));
        String node = String.valueOf(reference.getProperty(Hypervisor.NODE_PROPERTY));
        exported.put(hypervisor, context.registerService(Hypervisor.class, new HypervisorFacade(hypervisor, node),
                properties(reference, type, node)));
        LOG.info("Exported {}@{} at {}", type, node, fastbin(config).get(FASTBIN_URI));
    }

    void removeHypervisor(Hypervisor hypervisor) {
        ServiceRegistration<Hypervisor> registration;
        synchronized (this) {
            local.remove(hypervisor);
            registration = exported.remove(hypervisor);
        }
        unregister(registration);
    }

    /** The service properties of a facade: the original's identity plus the export's. */
    Hashtable<String, Object> properties(ServiceReference<Hypervisor> reference, String type, String node) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(Hypervisor.TYPE_PROPERTY, type);
        props.put(Hypervisor.NODE_PROPERTY, node);
        Object address = reference.getProperty(Hypervisor.ADDRESS_PROPERTY);
        if (address != null) {
            props.put(Hypervisor.ADDRESS_PROPERTY, address.toString());
        }
        props.put(Hypervisor.FACADE_PROPERTY, Boolean.TRUE);
        props.put(EXPORTED_INTERFACES, Hypervisor.class.getName());
        props.put(EXPORTED_CONFIGS, FASTBIN_CONFIG);
        return props;
    }

    @Deactivate
    void deactivate() {
        List<ServiceRegistration<Hypervisor>> all;
        synchronized (this) {
            active = false;
            all = new ArrayList<>(exported.values());
            exported.clear();
            local.clear();
        }
        all.forEach(RemoteExporter::unregister);
    }

    private static void unregister(ServiceRegistration<Hypervisor> registration) {
        if (registration == null) {
            return;
        }
        try {
            registration.unregister();
        } catch (IllegalStateException e) {
            // already gone with the bundle
        }
    }
}
