package org.hvkit.metrics.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.InstanceJson;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.InstanceStatistics;
import org.junit.jupiter.api.Test;

class NodeMBeansTest {

    private static final org.hvkit.hypervisor.InstanceStats.LastMigration MIGRATION =
            new org.hvkit.hypervisor.InstanceStats.LastMigration(true,
                    org.hvkit.hypervisor.MigrationStatus.State.COMPLETED, 1_780_340_402_000L, 2310, 31, -1);

    /** A hostile node name: every character ObjectName gives a meaning to. */
    static final String NODE = "no,de=*?\"x\\:";

    final MBeanServer server = MBeanServerFactory.newMBeanServer();
    final List<String> running = new CopyOnWriteArrayList<>(List.of("vm1", "we,ird=*\"name"));
    final List<String> calls = new ArrayList<>();

    /** A KVM-like hypervisor of node {@link #NODE} that runs {@link #running}, with statistics. */
    Hypervisor hypervisor() {
        return (Hypervisor) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Hypervisor.class, InstanceStatistics.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "type" -> "kvm";
                    case "node" -> NODE;
                    case "listInstances" -> List.copyOf(running);
                    case "defaultStopTimeout" -> Duration.ofSeconds(42);
                    case "runningInstance" -> running.contains((String) args[0])
                            ? InstanceJson.read("{\"name\": \"" + args[0] + "\", \"hypervisor\": \"kvm\"}")
                            : null;
                    case "stopInstance" -> {
                        Instance i = (Instance) args[0];
                        calls.add("stop " + i.name() + " force=" + args[1] + " timeout=" + args[2]);
                        if (i.name().equals("stuck")) {
                            throw new HypervisorException("Failed to stop instance stuck: QEMU did not exit");
                        }
                        running.remove(i.name());
                        yield null;
                    }
                    case "rebootInstance" -> {
                        calls.add("reboot " + ((Instance) args[0]).name());
                        yield null;
                    }
                    case "instanceStatistics" -> running.contains((String) args[0])
                            ? Optional.of(PrometheusFamiliesTest.full((String) args[0], NODE).withLastMigration(
                                    "vm1".equals(args[0]) ? MIGRATION : null))
                            : Optional.empty();
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    case "toString" -> "test hypervisor";
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void objectNamesAreQuotedAndInstancesComeAndGo() throws Exception {
        try (NodeMBeans mbeans = new NodeMBeans(server, hypervisor())) {
            ObjectName hv = NodeMBeans.hypervisorName(NODE, "kvm");
            assertEquals(hv, mbeans.objectName());
            assertEquals("org.hvkit:type=Hypervisor,node=\"no,de=\\*\\?\\\"x\\\\:\",hvtype=\"kvm\"", hv.toString());
            assertEquals(NODE, ObjectName.unquote(hv.getKeyProperty("node")));
            assertEquals("kvm", server.getAttribute(hv, "Type"));
            assertEquals(NODE, server.getAttribute(hv, "Node"));
            assertArrayEquals(new String[] {"vm1", "we,ird=*\"name"}, (String[]) server.getAttribute(hv, "Instances"));

            ObjectName weird = NodeMBeans.instanceName(NODE, "we,ird=*\"name");
            assertEquals("we,ird=*\"name", ObjectName.unquote(weird.getKeyProperty("name")));
            assertTrue(server.isRegistered(weird));
            ObjectName vm1 = NodeMBeans.instanceName(NODE, "vm1");
            assertEquals("vm1", server.getAttribute(vm1, "Name"));
            assertEquals("RUNNING", server.getAttribute(vm1, "State"));
            assertEquals(12.34, server.getAttribute(vm1, "CpuSeconds"));
            assertEquals(268_435_456L, server.getAttribute(vm1, "RssBytes"));
            assertEquals(1024L, server.getAttribute(vm1, "DiskReadBytes"));
            assertEquals(2048L, server.getAttribute(vm1, "DiskWriteBytes"));
            assertEquals(100L, server.getAttribute(vm1, "NetRxBytes"));
            assertEquals(200L, server.getAttribute(vm1, "NetTxBytes"));
            assertEquals(5L, server.getAttribute(vm1, "NetDrops"));
            assertEquals(90.5, server.getAttribute(vm1, "UptimeSeconds"));
            assertEquals(false, server.getAttribute(vm1, "Stale"));
            assertEquals("", server.getAttribute(vm1, "StaleReason"));
            assertEquals("in", server.getAttribute(vm1, "LastMigrationDirection"));
            assertEquals("COMPLETED", server.getAttribute(vm1, "LastMigrationResult"));
            assertEquals(1_780_340_402_000L, server.getAttribute(vm1, "LastMigrationFinishedAtMillis"));
            assertEquals(2310L, server.getAttribute(vm1, "LastMigrationDurationMillis"));
            assertEquals(31L, server.getAttribute(vm1, "LastMigrationDowntimeMillis"));
            assertEquals(-1L, server.getAttribute(vm1, "LastMigrationTransferredBytes"));

            running.add("vm3");
            running.add("vm2");
            assertEquals(4, server.getAttribute(hv, "InstanceCount"));
            assertTrue(server.isRegistered(NodeMBeans.instanceName(NODE, "vm3")));

            // a clean stop through JMX with the node's default timeout; the instance's MBean goes
            server.invoke(hv, "stopInstance", new Object[] {"vm1"}, new String[] {String.class.getName()});
            assertEquals(List.of("stop vm1 force=false timeout=PT42S"), calls);
            assertFalse(server.isRegistered(vm1));

            // gone without JMX: the next refresh unregisters it
            running.remove("vm3");
            mbeans.refresh();
            assertFalse(server.isRegistered(NodeMBeans.instanceName(NODE, "vm3")));

            server.invoke(hv, "rebootInstance", new Object[] {"vm2"}, new String[] {String.class.getName()});
            assertEquals("reboot vm2", calls.get(1));
            // a listed name that the SPI's name rule refuses gets an MBean, but no operation
            RuntimeMBeanException refused = assertThrows(RuntimeMBeanException.class, () -> server.invoke(hv,
                    "rebootInstance", new Object[] {"we,ird=*\"name"}, new String[] {String.class.getName()}));
            assertInstanceOf(IllegalArgumentException.class, refused.getCause());
            assertEquals(2, calls.size());
        }
        assertTrue(server.queryNames(new ObjectName("org.hvkit:*"), null).isEmpty(), "close unregisters everything");
    }

    @Test
    void badNamesAndFailuresAreClearErrors() throws Exception {
        running.add("stuck");
        try (NodeMBeans mbeans = new NodeMBeans(server, hypervisor())) {
            ObjectName hv = mbeans.objectName();
            String[] sig = {String.class.getName()};
            RuntimeMBeanException invalid = assertThrows(RuntimeMBeanException.class,
                    () -> server.invoke(hv, "stopInstance", new Object[] {"../etc"}, sig));
            assertInstanceOf(IllegalArgumentException.class, invalid.getCause());
            assertTrue(invalid.getCause().getMessage().startsWith("Invalid instance name '../etc'"),
                    invalid.getCause().getMessage());

            RuntimeMBeanException unknown = assertThrows(RuntimeMBeanException.class,
                    () -> server.invoke(hv, "rebootInstance", new Object[] {"nosuch"}, sig));
            assertInstanceOf(IllegalArgumentException.class, unknown.getCause());
            assertEquals("Cannot reboot instance nosuch: not running on kvm@" + NODE, unknown.getCause().getMessage());

            RuntimeMBeanException failed = assertThrows(RuntimeMBeanException.class,
                    () -> server.invoke(hv, "stopInstance", new Object[] {"stuck"}, sig));
            assertInstanceOf(IllegalStateException.class, failed.getCause());
            assertEquals("Failed to stop instance stuck: QEMU did not exit", failed.getCause().getMessage());

            RuntimeMBeanException none = assertThrows(RuntimeMBeanException.class,
                    () -> server.invoke(hv, "stopInstance", new Object[] {null}, sig));
            assertInstanceOf(IllegalArgumentException.class, none.getCause());
            assertEquals(List.of("stop stuck force=false timeout=PT42S"), calls, "nothing else reached the hypervisor");
        }
    }

    @Test
    void anInstanceThatStoppedReadsGoneUntilItsMBeanIsRemoved() throws Exception {
        try (NodeMBeans mbeans = new NodeMBeans(server, hypervisor())) {
            ObjectName vm1 = NodeMBeans.instanceName(NODE, "vm1");
            running.remove("vm1");
            assertEquals("GONE", server.getAttribute(vm1, "State"));
            assertEquals(true, server.getAttribute(vm1, "Stale"));
            assertEquals(-1L, server.getAttribute(vm1, "RssBytes"));
            assertEquals(-1.0, server.getAttribute(vm1, "CpuSeconds"));
            assertEquals("", server.getAttribute(vm1, "LastMigrationDirection"));
            assertEquals(-1L, server.getAttribute(vm1, "LastMigrationDurationMillis"));
            mbeans.refresh();
            assertFalse(server.isRegistered(vm1));
        }
    }

    @Test
    void aHypervisorWithoutStatisticsShowsItsInstancesAsStale() throws Exception {
        Hypervisor fake = (Hypervisor) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Hypervisor.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "type" -> "fake";
                    case "node" -> "node-a";
                    case "listInstances" -> List.of("f1");
                    case "instanceInfo" -> "f1".equals(args[0])
                            ? new InstanceInfo("f1", 99, 128, 1, InstanceState.RUNNING, 1.5)
                            : null;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        try (NodeMBeans mbeans = new NodeMBeans(server, fake)) {
            ObjectName f1 = NodeMBeans.instanceName("node-a", "f1");
            assertEquals("RUNNING", server.getAttribute(f1, "State"));
            assertEquals(99L, server.getAttribute(f1, "Pid"));
            assertEquals(1.5, server.getAttribute(f1, "CpuSeconds"));
            assertEquals(-1L, server.getAttribute(f1, "RssBytes"));
            assertEquals(true, server.getAttribute(f1, "Stale"));
            assertEquals("hypervisor type fake reports no statistics", server.getAttribute(f1, "StaleReason"));
        }
    }
}
