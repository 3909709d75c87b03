package org.hvkit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import javax.inject.Inject;

import org.apache.karaf.features.FeaturesService;
import org.hvkit.hypervisor.Hypervisor;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;

/** The hvkit feature installs and publishes the fake hypervisor with its service properties. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class FeatureIT extends HvkitTestSupport {

    @Inject
    private FeaturesService featuresService;


    @Test
    public void featuresAreInstalled() throws Exception {
        for (String f : new String[] {"hvkit", "hvkit-spi", "hvkit-fake", "hvkit-shell"}) {
            // the features service may still be reading its repositories when the test starts
            waitFor("feature " + f + " to be known", Duration.ofSeconds(30), () -> {
                try {
                    return featuresService.getFeature(f) != null;
                } catch (Exception e) {
                    return false;
                }
            });
            assertTrue(f + " installed", featuresService.isInstalled(featuresService.getFeature(f)));
        }
        for (String bsn : new String[] {"org.hvkit.hypervisor", "org.hvkit.fake", "org.hvkit.shell",
            "com.fasterxml.jackson.core.jackson-databind"}) {
            assertEquals(bsn + " active", Bundle.ACTIVE, bundle(bsn).getState());
        }
    }

    /**
     * Issue #17: the metrics feature is optional; without it no bundle of it runs, there is no HTTP
     * service, and the JVM listens on no HTTP port (Karaf's default 8181).
     */
    @Test
    public void withoutTheMetricsFeatureNoHttpPortListens() throws Exception {
        waitFor("feature hvkit-metrics to be known", Duration.ofSeconds(30), () -> {
            try {
                return featuresService.getFeature("hvkit-metrics") != null;
            } catch (Exception e) {
                return false;
            }
        });
        assertFalse(featuresService.isInstalled(featuresService.getFeature("hvkit-metrics")));
        for (Bundle b : bundleContext.getBundles()) {
            assertFalse(b.getSymbolicName() + " is installed", b.getSymbolicName().equals("org.hvkit.metrics")
                    || b.getSymbolicName().startsWith("org.ops4j.pax.web"));
        }
        assertNull(bundleContext.getServiceReference("org.osgi.service.http.HttpService"));
        assertNull(bundleContext.getServiceReference("org.osgi.service.http.runtime.HttpServiceRuntime"));
        Set<Integer> listening;
        // the reading is checked against a socket this test listens on
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            listening = listeningPorts();
            assertTrue(listening + " has the test's own port " + probe.getLocalPort(),
                    listening.remove(probe.getLocalPort()));
        }
        System.err.println("[hvkit-it] the Karaf JVM listens on TCP ports " + listening);
        assertFalse("no HTTP port (Karaf's default 8181): " + listening, listening.contains(8181));
    }

    /** The TCP ports this JVM listens on: its socket inodes matched with /proc/self/net/tcp and tcp6. */
    private static Set<Integer> listeningPorts() throws IOException {
        Set<String> inodes = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        Set<Integer> ports = new TreeSet<>();
        for (String table : new String[] {"/proc/self/net/tcp", "/proc/self/net/tcp6"}) {
            List<String> lines = Files.readAllLines(Path.of(table));
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                // sl local_address rem_address st ... inode; st 0A is LISTEN
                if (f.length > 9 && f[3].equals("0A") && inodes.contains(f[9])) {
                    ports.add(Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16));
                }
            }
        }
        return ports;
    }

    @Test
    public void fakeHypervisorServiceHasItsProperties() throws Exception {
        Hypervisor hv = awaitHypervisor("(hypervisor.type=fake)", Duration.ofSeconds(30));
        Collection<ServiceReference<Hypervisor>> refs =
                bundleContext.getServiceReferences(Hypervisor.class, "(hypervisor.type=fake)");
        assertEquals(1, refs.size());
        ServiceReference<Hypervisor> ref = refs.iterator().next();
        assertEquals("fake", ref.getProperty(Hypervisor.TYPE_PROPERTY));
        assertEquals(NODE_A, ref.getProperty(Hypervisor.NODE_PROPERTY));
        assertEquals("org.hvkit.fake", ref.getBundle().getSymbolicName());
        assertEquals("fake", hv.type());
        assertEquals(NODE_A, hv.node());
        assertTrue(hv.canMigrate());
        assertEquals(hv.parameters().keySet(), hv.defaults().keySet());
        assertTrue(hv.verify().isEmpty());
        assertTrue(hv.nodeInfo().memoryTotal() > 0);
    }
}
