package org.hvkit.metrics.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import javax.management.StandardMBean;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MBeans of one hypervisor service: its {@link HypervisorMXBean} and one
 * {@link InstanceMXBean} per running instance, registered and unregistered as instances appear
 * and disappear ({@link #refresh}). Every value in an object name is quoted
 * ({@link ObjectName#quote}): node and instance names are not trusted.
 */
final class NodeMBeans implements HypervisorMXBean, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(NodeMBeans.class);

    static final String DOMAIN = "org.hvkit";

    private final MBeanServer server;
    private final Hypervisor hypervisor;
    private final ObjectName objectName;
    private final Map<String, ObjectName> instances = new TreeMap<>();
    private boolean closed;

    NodeMBeans(MBeanServer server, Hypervisor hypervisor) throws JMException {
        this.server = server;
        this.hypervisor = hypervisor;
        this.objectName = hypervisorName(hypervisor.node(), hypervisor.type());
        server.registerMBean(new StandardMBean(this, HypervisorMXBean.class, true), objectName);
        refresh();
    }

    static ObjectName hypervisorName(String node, String type) throws MalformedObjectNameException {
        return new ObjectName(DOMAIN + ":type=Hypervisor,node=" + ObjectName.quote(node) + ",hvtype="
                + ObjectName.quote(type));
    }

    static ObjectName instanceName(String node, String name) throws MalformedObjectNameException {
        return new ObjectName(DOMAIN + ":type=Instance,node=" + ObjectName.quote(node) + ",name="
                + ObjectName.quote(name));
    }

    ObjectName objectName() {
        return objectName;
    }

    /**
     * Registers an MBean for every instance running now and unregisters those of instances gone;
     * returns the running instances' names. When the hypervisor cannot list, nothing changes.
     */
    synchronized List<String> refresh() {
        if (closed) {
            return List.of();
        }
        List<String> running;
        try {
            running = hypervisor.listInstances();
        } catch (HypervisorException | RuntimeException e) {
            LOG.warn("Cannot list the instances of {}@{}: {}", hypervisor.type(), hypervisor.node(), e.getMessage());
            return new ArrayList<>(instances.keySet());
        }
        for (String gone : new ArrayList<>(instances.keySet())) {
            if (!running.contains(gone)) {
                unregister(instances.remove(gone));
            }
        }
        for (String name : running) {
            if (!instances.containsKey(name)) {
                try {
                    ObjectName on = instanceName(hypervisor.node(), name);
                    server.registerMBean(new StandardMBean(new InstanceView(hypervisor, name), InstanceMXBean.class,
                            true), on);
                    instances.put(name, on);
                } catch (InstanceAlreadyExistsException e) {
                    LOG.warn("An MBean for instance {} of node {} is registered already (a second hypervisor"
                            + " of the node?); not registering another", name, hypervisor.node());
                } catch (JMException e) {
                    LOG.warn("Cannot register the MBean of instance {}: {}", name, e.toString());
                }
            }
        }
        return new ArrayList<>(instances.keySet());
    }

    private void unregister(ObjectName on) {
        try {
            server.unregisterMBean(on);
        } catch (InstanceNotFoundException e) {
            // someone else unregistered it: nothing to do
        } catch (JMException e) {
            LOG.warn("Cannot unregister {}: {}", on, e.toString());
        }
    }

    @Override
    public String getType() {
        return hypervisor.type();
    }

    @Override
    public String getNode() {
        return hypervisor.node();
    }

    @Override
    public String[] getInstances() {
        return refresh().toArray(new String[0]);
    }

    @Override
    public int getInstanceCount() {
        return refresh().size();
    }

    @Override
    public void stopInstance(String name) {
        Instance instance = running(name, "stop");
        try {
            hypervisor.stopInstance(instance, false, hypervisor.defaultStopTimeout());
        } catch (HypervisorException e) {
            throw new IllegalStateException(e.getMessage());
        } finally {
            refresh();
        }
    }

    @Override
    public void rebootInstance(String name) {
        Instance instance = running(name, "reboot");
        try {
            hypervisor.rebootInstance(instance);
        } catch (HypervisorException e) {
            throw new IllegalStateException(e.getMessage());
        } finally {
            refresh();
        }
    }

    /** The running instance's saved definition; IllegalArgumentException for a bad or unknown name. */
    private Instance running(String name, String what) {
        try {
            Instance.requireValidName(name);
            return Optional.ofNullable(hypervisor.runningInstance(name)).orElseThrow(() -> new IllegalArgumentException("Cannot " + what
                    + " instance " + name + ": not running on " + hypervisor.type() + "@" + hypervisor.node()));
        } catch (HypervisorException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    /** Unregisters every MBean of this hypervisor. */
    @Override
    public synchronized void close() {
        closed = true;
        instances.values().forEach(this::unregister);
        instances.clear();
        unregister(objectName);
    }
}
