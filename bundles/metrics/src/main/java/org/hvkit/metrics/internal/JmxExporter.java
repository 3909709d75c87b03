package org.hvkit.metrics.internal;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.management.JMException;
import javax.management.MBeanServer;

import org.hvkit.hypervisor.Hypervisor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers the MBeans of every {@link Hypervisor} service with Karaf's MBean server (the
 * {@code management} feature's, whose JMX ACLs guard remote access) and refreshes the instance
 * MBeans every {@link #REFRESH_SECONDS} s, so that a stopped instance's MBean goes away even
 * when nobody reads the hypervisor's.
 */
@Component(service = {}, immediate = true)
public final class JmxExporter {

    private static final Logger LOG = LoggerFactory.getLogger(JmxExporter.class);

    static final int REFRESH_SECONDS = 5;

    /**
     * This JVM's own hypervisors only: not the export facades (they stand for a local hypervisor
     * registered as well) and not services imported from other machines (issue #16), whose MBeans
     * their own Karaf serves; polling them every few seconds over the network would also make a
     * slow remote host slow the refresh here.
     */
    static final String LOCAL_HYPERVISORS = "(&" + Hypervisor.NOT_FACADE_FILTER + "(!(service.imported=*)))";

    private final MBeanServer server;
    private final Map<Hypervisor, NodeMBeans> nodes = new IdentityHashMap<>();
    private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "hvkit-metrics-jmx-refresh");
        t.setDaemon(true);
        return t;
    });

    @Activate
    public JmxExporter(@Reference MBeanServer server) {
        this.server = server;
        refresher.scheduleWithFixedDelay(this::refreshAll, REFRESH_SECONDS, REFRESH_SECONDS, TimeUnit.SECONDS);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, target = LOCAL_HYPERVISORS)
    void addHypervisor(Hypervisor hypervisor) {
        try {
            NodeMBeans mbeans = new NodeMBeans(server, hypervisor);
            synchronized (nodes) {
                nodes.put(hypervisor, mbeans);
            }
        } catch (JMException | RuntimeException e) {
            LOG.warn("Cannot register the MBeans of {}@{}: {}", hypervisor.type(), hypervisor.node(), e.toString());
        }
    }

    void removeHypervisor(Hypervisor hypervisor) {
        NodeMBeans mbeans;
        synchronized (nodes) {
            mbeans = nodes.remove(hypervisor);
        }
        if (mbeans != null) {
            mbeans.close();
        }
    }

    private void refreshAll() {
        List<NodeMBeans> all;
        synchronized (nodes) {
            all = List.copyOf(nodes.values());
        }
        for (NodeMBeans n : all) {
            try {
                n.refresh();
            } catch (RuntimeException e) {
                LOG.warn("Refreshing {} failed: {}", n.objectName(), e.toString());
            }
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        refresher.shutdownNow();
        if (!refresher.awaitTermination(10, TimeUnit.SECONDS)) {
            LOG.warn("The JMX refresh is still running 10 s after deactivation");
        }
        List<NodeMBeans> all;
        synchronized (nodes) {
            all = List.copyOf(nodes.values());
            nodes.clear();
        }
        all.forEach(NodeMBeans::close);
    }
}
