package org.hvkit.kvm.internal;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;

import org.hvkit.hypervisor.CommandLinePreview;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.netdev.CpuAffinity;
import org.hvkit.netdev.FileLocks;
import org.hvkit.netdev.Netlink;
import org.hvkit.netdev.ProcessSpawner;
import org.hvkit.netdev.TapDevices;
import org.hvkit.uidpool.UidPool;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One configured KVM node ({@code etc/org.hvkit.kvm-<alias>.cfg}): validates the configuration,
 * opens the node and registers its {@link KvmHypervisor} under {@link Hypervisor},
 * {@link CommandLinePreview}, {@link org.hvkit.hypervisor.SerialConsole} and
 * {@link org.hvkit.hypervisor.InstanceStatistics}.
 *
 * <p>Why the component registers the service itself instead of being it: a DS component whose
 * activation fails stays registered, SCR logs its own generic "Error during instantiation"
 * with a stack trace, and every lookup (each {@code hv:list}) retries and logs again. Here a
 * bad configuration (a relative root.dir, {@code hvparam.migration_port = 70000},
 * {@code nic.setup = ovs}, a root.dir another node owns) gives exactly one ERROR line naming
 * the key, and no service.
 */
@Component(configurationPid = KvmNode.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, immediate = true,
        service = {})
@Designate(ocd = KvmConfiguration.class, factory = true)
public final class KvmNode {

    static final String PID = "org.hvkit.kvm";
    private static final Logger LOG = LoggerFactory.getLogger(KvmNode.class);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile UidPool uidPool;
    /**
     * The pool as it was when the component began to go away: SCR unbinds the reference after
     * {@link #deactivate}, but the hand-over may still wind instances down (a migration target
     * aborted because this very bundle stops) and must give their uids back.
     */
    private volatile UidPool windDownPool;
    /**
     * Where instance events go: {@link org.hvkit.kvm.internal.events.EventAdminSink}, present
     * while an EventAdmin is (Karaf's {@code eventadmin} feature); without it the node runs the
     * same and only logs what it would publish.
     */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile org.hvkit.kvm.internal.events.InstanceEventSink eventSink;

    private final KvmHypervisor hypervisor;
    private final ServiceRegistration<?> registration;

    @Activate
    public KvmNode(BundleContext context, @Reference ProcessSpawner spawner, @Reference TapDevices taps,
                   @Reference Netlink netlink, @Reference FileLocks locks, @Reference CpuAffinity affinity,
                   KvmConfiguration config,
                   Map<String, Object> properties) {
        KvmHypervisor hv = null;
        ServiceRegistration<?> reg = null;
        try {
            KvmSettings settings = KvmSettings.from(config, properties);
            hv = new KvmHypervisor(settings, new KvmInstances(settings,
                    new NativeServices(spawner, taps, netlink, locks, affinity), this::pool, () -> eventSink));
            reg = context.registerService(new String[] {Hypervisor.class.getName(), CommandLinePreview.class.getName(),
                org.hvkit.hypervisor.SerialConsole.class.getName(),
                org.hvkit.hypervisor.InstanceStatistics.class.getName()}, hv, serviceProperties(properties, settings));
        } catch (IllegalArgumentException | HypervisorException e) {
            String why = e.getMessage().startsWith(PID + ": ") ? e.getMessage().substring(PID.length() + 2)
                    : e.getMessage();
            LOG.error("{} (configuration {}): {}; no KVM hypervisor for this configuration until it is fixed", PID,
                    properties.getOrDefault(Constants.SERVICE_PID, "?"), why);
            if (hv != null) {
                hv.close();
                hv = null;
            }
        }
        this.hypervisor = hv;
        this.registration = reg;
    }

    private UidPool pool() {
        UidPool bound = uidPool;
        return bound != null ? bound : windDownPool;
    }

    /** The configuration's public properties (as SCR would publish them), with the node and type. */
    private static Dictionary<String, Object> serviceProperties(Map<String, Object> config, KvmSettings settings) {
        Hashtable<String, Object> p = new Hashtable<>();
        config.forEach((k, v) -> {
            if (!k.startsWith(".") && !k.startsWith("component.") && !k.equals(Constants.SERVICE_PID)
                    && !k.equals(Constants.SERVICE_ID)) {
                p.put(k, v);
            }
        });
        p.put(Hypervisor.TYPE_PROPERTY, "kvm");
        p.put(Hypervisor.NODE_PROPERTY, settings.node());
        p.put(Constants.SERVICE_DESCRIPTION, "hvkit KVM hypervisor");
        return p;
    }

    /** The configuration is gone or changed, or the bundle stops: unregister, then hand over. QEMU runs on. */
    @Deactivate
    void deactivate() {
        windDownPool = uidPool;
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException e) {
                // unregistered already (the framework is stopping)
            }
        }
        if (hypervisor != null) {
            hypervisor.close();
        }
    }
}
