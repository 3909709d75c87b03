package org.hvkit.remote.internal;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.hvkit.hypervisor.Hypervisor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
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
 * Services properties that make Aries RSA's topology manager hand it to the TCP provider,
 * advertised at the configured management address (1.16.1's provider listens on every address
 * of the host whatever it advertises: it has no bind-address property; a warning says so). Configured by PID
 * {@value RemoteConfig#PID}; without {@code address} nothing is exported (services of other
 * hosts are still imported: that is Aries RSA's discovery, not this component). The component
 * also installs the deserialization allow-list ({@link SerialAllowList}), which guards imports
 * as well; if it cannot, nothing is exported.
 */
@Component(service = {}, immediate = true, configurationPid = RemoteConfig.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
public final class RemoteExporter {

    private static final Logger LOG = LoggerFactory.getLogger(RemoteExporter.class);

    /** Remote Services properties (OSGi Compendium, RemoteConstants). */
    static final String EXPORTED_INTERFACES = "service.exported.interfaces";
    static final String EXPORTED_CONFIGS = "service.exported.configs";
    static final String SERVICE_IMPORTED = "service.imported";
    /** Aries RSA 1.16.1's TCP provider: its config type and endpoint properties (EndpointPropertiesParser). */
    static final String TCP_CONFIG = "aries.tcp";
    static final String TCP_HOSTNAME = "aries.rsa.hostname";
    static final String TCP_PORT = "aries.rsa.port";
    static final String TCP_TIMEOUT_MILLIS = "osgi.basic.timeout";

    /** Local hypervisors only: not our own facades, not services imported from other hosts. */
    static final String LOCAL = "(&" + Hypervisor.NOT_FACADE_FILTER + "(!(" + SERVICE_IMPORTED + "=*)))";

    private final BundleContext context;
    private final RemoteConfig config;
    private final boolean guarded;
    private final Map<Hypervisor, ServiceRegistration<Hypervisor>> exported = new IdentityHashMap<>();
    private final Map<Hypervisor, Integer> ports = new IdentityHashMap<>();
    private boolean active = true;

    @Activate
    public RemoteExporter(BundleContext context, Map<String, Object> properties) {
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
        if (!config.exports()) {
            LOG.info("{}: no address configured: no hypervisor of this host is exported", RemoteConfig.PID);
        } else {
            LOG.info("Exporting this host's hypervisors at {} from port {} (call timeout {} s)",
                    config.address().getHostAddress(), config.port(), config.timeoutSeconds());
            // Aries RSA 1.16.1 has no bind-address property: its TCPServer opens new ServerSocket(port)
            // and uses aries.rsa.hostname only in the advertised endpoint (ListeningAddressTest)
            LOG.warn("Aries RSA 1.16.1's TCP provider listens on port {} and up on every address of this host, not only"
                    + " on {}: restrict those ports to the management interface with the host's firewall"
                    + " (docs/multi-host.md, Trust model)", config.port(), config.address().getHostAddress());
        }
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
            if (!active || exported.containsKey(hypervisor)) {
                return;
            }
            int port = freePort();
            Hashtable<String, Object> props = properties(reference, String.valueOf(type), String.valueOf(node), port);
            ports.put(hypervisor, port);
            exported.put(hypervisor, context.registerService(Hypervisor.class,
                    new HypervisorFacade(hypervisor, String.valueOf(node)), props));
        }
        LOG.info("Exported {}@{} at tcp://{}:{}", type, node, config.address().getHostAddress(), ports.get(hypervisor));
    }

    void removeHypervisor(Hypervisor hypervisor) {
        ServiceRegistration<Hypervisor> registration;
        synchronized (this) {
            registration = exported.remove(hypervisor);
            ports.remove(hypervisor);
        }
        unregister(registration);
    }

    /** The service properties of a facade: the original's identity plus the export's. */
    Hashtable<String, Object> properties(ServiceReference<Hypervisor> reference, String type, String node, int port) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(Hypervisor.TYPE_PROPERTY, type);
        props.put(Hypervisor.NODE_PROPERTY, node);
        Object address = reference.getProperty(Hypervisor.ADDRESS_PROPERTY);
        if (address != null) {
            props.put(Hypervisor.ADDRESS_PROPERTY, address.toString());
        }
        props.put(Hypervisor.FACADE_PROPERTY, Boolean.TRUE);
        props.put(EXPORTED_INTERFACES, Hypervisor.class.getName());
        props.put(EXPORTED_CONFIGS, TCP_CONFIG);
        props.put(TCP_HOSTNAME, config.address().getHostAddress());
        props.put(TCP_PORT, Integer.toString(port));
        props.put(TCP_TIMEOUT_MILLIS, Long.toString(config.timeoutSeconds() * 1000));
        return props;
    }

    /** The configured port, or the next one not taken by another export of this component. */
    private int freePort() {
        TreeSet<Integer> taken = new TreeSet<>(ports.values());
        int p = config.port();
        while (taken.contains(p) && p < 65535) {
            p++;
        }
        return p;
    }

    @Deactivate
    void deactivate() {
        List<ServiceRegistration<Hypervisor>> all;
        synchronized (this) {
            active = false;
            all = new ArrayList<>(exported.values());
            exported.clear();
            ports.clear();
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
