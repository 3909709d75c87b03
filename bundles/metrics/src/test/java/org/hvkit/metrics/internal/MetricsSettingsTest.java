package org.hvkit.metrics.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceStatistics;
import org.junit.jupiter.api.Test;

/** {@code org.hvkit.metrics}: the keys' validation, and that the components obey what is configured. */
class MetricsSettingsTest {

    private static Map<String, Object> props(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void noConfigurationMeansTheDefaults() {
        MetricsSettings s = MetricsSettings.from(props("service.pid", "org.hvkit.metrics", "component.id", 7L));
        assertEquals(new MetricsSettings(Duration.ofSeconds(8), Duration.ofSeconds(5), Duration.ofMillis(2000)), s);
        assertEquals(MetricsSettings.DEFAULTS, s);
    }

    @Test
    void valuesComeAsTextFromEtcOrAsNumbersFromConfigAdmin() {
        MetricsSettings s = MetricsSettings.from(props("scrape.timeout.seconds", " 3 ", "jmx.refresh.seconds", 3600,
                "jmx.cache.millis", 0L));
        assertEquals(new MetricsSettings(Duration.ofSeconds(3), Duration.ofHours(1), Duration.ZERO), s);
        assertEquals(Duration.ofSeconds(300), MetricsSettings.from(props("scrape.timeout.seconds", "300")).scrapeTimeout());
        assertEquals(Duration.ofSeconds(1), MetricsSettings.from(props("jmx.refresh.seconds", "1")).jmxRefresh());
    }

    @Test
    void aBadValueNamesTheKeyTheRangeAndTheValue() {
        Object[][] cases = {
            {"scrape.timeout.seconds", "0", "from 1 to 300"},
            {"scrape.timeout.seconds", "301", "from 1 to 300"},
            {"scrape.timeout.seconds", "-5", "from 1 to 300"},
            {"scrape.timeout.seconds", "1.5", "from 1 to 300"},
            {"scrape.timeout.seconds", "8s", "from 1 to 300"},
            {"scrape.timeout.seconds", "", "from 1 to 300"},
            {"scrape.timeout.seconds", 2.0, "from 1 to 300"},
            {"scrape.timeout.seconds", "99999999999999999999", "from 1 to 300"},
            {"jmx.refresh.seconds", "0", "from 1 to 3600"},
            {"jmx.refresh.seconds", 3601, "from 1 to 3600"},
            {"jmx.cache.millis", "-1", "from 0 to 60000"},
            {"jmx.cache.millis", "60001", "from 0 to 60000"},
            {"jmx.cache.millis", true, "from 0 to 60000"},
        };
        for (Object[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MetricsSettings.from(props(c[0], c[1])), c[0] + "=" + c[1]);
            assertEquals("org.hvkit.metrics: " + c[0] + " must be a whole number " + c[2] + ", got '" + c[1] + "'",
                    e.getMessage());
        }
    }

    @Test
    void unknownKeysAreNamedButConfigAdminsAndTheWhiteboardsAreNot() {
        assertEquals(Set.of("scrape.timout.seconds"), MetricsSettings.unknownKeys(props("scrape.timout.seconds", "3",
                "jmx.cache.millis", "5", "service.pid", "p", "felix.fileinstall.filename", "f", "component.name", "c",
                "osgi.http.whiteboard.servlet.pattern", "/metrics", ".hidden", "x")));
    }

    @Test
    void withABadValueNeitherComponentStarts() {
        Map<String, Object> bad = props("scrape.timeout.seconds", "0");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MetricsServlet(bad));
        assertTrue(e.getMessage().startsWith("org.hvkit.metrics: scrape.timeout.seconds must be"), e.getMessage());
        MBeanServer server = MBeanServerFactory.newMBeanServer();
        assertThrows(IllegalArgumentException.class, () -> new JmxExporter(server, props("jmx.cache.millis", "x")));
    }

    @Test
    void theConfiguredScrapeTimeoutIsObeyed() throws Exception {
        MetricsServlet servlet = new MetricsServlet(props("scrape.timeout.seconds", "1"));
        BoundedScrapeTest.Hung hung = new BoundedScrapeTest.Hung();
        try {
            servlet.addStatistics(hung, Map.of(Hypervisor.NODE_PROPERTY, "slow"));
            servlet.addStatistics(BoundedScrapeTest.answering(List.of(PrometheusFamiliesTest.full("vm1", "quick"))),
                    Map.of(Hypervisor.NODE_PROPERTY, "quick"));
            long t0 = System.nanoTime();
            String text = servlet.scrapeText();
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            // waited the configured 1 s for the hung node, not the default 8 s
            assertTrue(took.compareTo(Duration.ofSeconds(1)) >= 0 && took.compareTo(Duration.ofSeconds(5)) < 0,
                    "took " + took);
            Map<String, Double> s = PrometheusFamiliesTest.samples(text);
            assertEquals(0.0, s.get("hvkit_node_scrape_complete{node=\"slow\"}"), text);
            assertEquals(1.0, s.get("hvkit_node_scrape_complete{node=\"quick\"}"), text);
            assertEquals(1.0, s.get("hvkit_instance_up{instance=\"vm1\",node=\"quick\"}"), text);
        } finally {
            hung.release.countDown();
            servlet.deactivate();
        }
    }

    /** A node running vm1 whose statistics calls are counted. */
    private static Hypervisor counting(AtomicInteger calls) {
        return (Hypervisor) Proxy.newProxyInstance(MetricsSettingsTest.class.getClassLoader(),
                new Class<?>[] {Hypervisor.class, InstanceStatistics.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "type" -> "kvm";
                    case "node" -> "n1";
                    case "listInstances" -> List.of("vm1");
                    case "instanceStatistics" -> {
                        calls.incrementAndGet();
                        yield Optional.of(PrometheusFamiliesTest.full(Instance.requireValidName((String) args[0]), "n1"));
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void theConfiguredInstanceMBeanCacheIsObeyed() throws Exception {
        MBeanServer server = MBeanServerFactory.newMBeanServer();
        ObjectName vm1 = NodeMBeans.instanceName("n1", "vm1");
        AtomicInteger uncached = new AtomicInteger();
        try (NodeMBeans mbeans = new NodeMBeans(server, counting(uncached), Duration.ZERO)) {
            for (String attribute : List.of("State", "RssBytes", "CpuSeconds")) {
                server.getAttribute(vm1, attribute);
            }
            assertEquals(3, uncached.get(), "jmx.cache.millis = 0: every read asks");
        }
        AtomicInteger cached = new AtomicInteger();
        try (NodeMBeans mbeans = new NodeMBeans(server, counting(cached), Duration.ofMinutes(1))) {
            for (String attribute : List.of("State", "RssBytes", "CpuSeconds")) {
                server.getAttribute(vm1, attribute);
            }
            assertEquals(1, cached.get(), "one reading serves every read within the cache time");
        }
    }
}
