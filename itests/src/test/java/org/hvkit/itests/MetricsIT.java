package org.hvkit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.maven;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.features;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.inject.Inject;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.MBeanServerConnection;
import javax.management.RuntimeMBeanException;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.InstanceJson;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The {@code hvkit-metrics} feature in Karaf with a real guest on a KVM node (TCG, security_model
 * none, no uid pool, no NIC: no network namespace needed) that writes to its disk every second:
 * the instance's MBean over Karaf's MBean server, {@code /metrics} over HTTP on a random port
 * scraped twice (CPU and disk-write counters grow), a JMX operation with a bad name, then a
 * clean stop through JMX after which the instance is gone from both.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class MetricsIT extends HvkitTestSupport {

    private static final String NODE = "node-met";
    private static final String NAME = "metit";
    private static final String HTTP_PORT = "hvkit.it.http.port";
    /** The JMX users' password, made by {@link #config} in the driver's JVM and passed on to the container's. */
    private static final String PASSWORD = "hvkit.it.jmx.password";

    @Inject
    private ConfigurationAdmin configAdmin;

    @Inject
    private MBeanServer mbeanServer;

    @Override
    @org.ops4j.pax.exam.Configuration
    public Option[] config() throws IOException {
        String port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = Integer.toString(s.getLocalPort());
        }
        String password = java.util.UUID.randomUUID().toString();
        List<Option> all = new java.util.ArrayList<>(List.of(super.config()));
        all.add(editConfigurationFilePut("etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", port));
        all.add(org.ops4j.pax.exam.CoreOptions.systemProperty(HTTP_PORT).value(port));
        // two users of Karaf's JMX connector (Karaf 4.4 guards the connector itself: no MBeanServerBuilder)
        all.add(editConfigurationFilePut("etc/users.properties", "metricsadmin", password + ",admin,viewer"));
        all.add(editConfigurationFilePut("etc/users.properties", "metricsviewer", password + ",viewer"));
        all.add(org.ops4j.pax.exam.CoreOptions.systemProperty(PASSWORD).value(password));
        all.add(features(maven().groupId("org.hvkit").artifactId("hvkit-features")
                .version(System.getProperty("hvkit.version")).type("xml").classifier("features"), "hvkit-metrics"));
        return all.toArray(new Option[0]);
    }

    private static String guestJson(Path guest, Path disk) {
        return "{\"name\": \"" + NAME + "\", \"hypervisor\": \"kvm\", \"primary_node\": \"" + NODE + "\","
                + " \"beparams\": {\"memory\": 128, \"vcpus\": 1}, \"disk_template\": \"sharedfile\","
                + " \"disks\": [{\"dev_path\": \"" + disk + "\", \"mode\": \"rw\", \"size\": 16}],"
                + " \"hvparams\": {\"kernel_path\": \"" + guest.resolve("vmlinuz") + "\","
                + " \"initrd_path\": \"" + guest.resolve("initramfs.gz") + "\", \"root_path\": \"/dev/ram0\","
                + " \"kernel_args\": \"panic=-1 guest.disk=/dev/vda\", \"kvm_flag\": \"disabled\","
                + " \"disk_cache\": \"none\", \"security_model\": \"none\"}}";
    }

    /** A connection through Karaf's JMX connector (RMI) as {@code user}, opened within 60 s. */
    private JMXConnector connect(String user, String password) throws Exception {
        Dictionary<String, Object> mgmt = configAdmin.getConfiguration("org.apache.karaf.management", null).getProperties();
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi://127.0.0.1:" + mgmt.get("rmiServerPort")
                + "/jndi/rmi://127.0.0.1:" + mgmt.get("rmiRegistryPort") + "/karaf-" + bundleContext.getProperty("karaf.name"));
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try {
            return ex.submit(() -> JMXConnectorFactory.connect(url,
                    Map.of(JMXConnector.CREDENTIALS, new String[] {user, password}))).get(60, TimeUnit.SECONDS);
        } finally {
            ex.shutdownNow();
        }
    }

    /** GET /metrics on Karaf's HTTP port: the status must be 200 and the type the 0.0.4 text format. */
    private static String scrape() throws IOException {
        URL url = new URL("http://127.0.0.1:" + System.getProperty(HTTP_PORT) + "/metrics");
        HttpURLConnection c = (HttpURLConnection) url.openConnection();
        c.setConnectTimeout(10_000);
        c.setReadTimeout(30_000);
        try {
            int status = c.getResponseCode();
            if (status != 200) {
                throw new IOException("GET " + url + ": HTTP " + status);
            }
            assertEquals("text/plain; version=0.0.4; charset=utf-8", c.getContentType().toLowerCase());
            try (InputStream in = c.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } finally {
            c.disconnect();
        }
    }

    /** The value of the first sample of {@code family} for this instance, or -1 when there is none. */
    private static double sample(String text, String family) {
        Matcher m = Pattern.compile("(?m)^" + family + "\\{instance=\"" + NAME + "\",node=\"" + NODE
                + "\"[^}]*} (\\S+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    private String scrapeWhen(String what, java.util.function.Predicate<String> ok) throws InterruptedException {
        String[] last = {""};
        try {
            waitFor(what, Duration.ofSeconds(60), () -> {
                try {
                    last[0] = scrape();
                    return ok.test(last[0]);
                } catch (IOException e) {
                    last[0] = e.toString();
                    return false;
                }
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last scrape:\n" + last[0], e);
        }
        return last[0];
    }

    @Test
    public void instanceMBeanAndPrometheusScrapesOfARealGuest() throws Exception {
        assertTrue("QEMU is installed (.ci/run installs qemu-system-x86)", Files.isExecutable(QEMU));
        Path guest = Path.of(System.getProperty("hvkit.guest.dir"));
        assertTrue("the test guest was built by the kvm module's build", Files.isRegularFile(guest.resolve("vmlinuz")));
        Path makeDisk = guest.getParent().getParent().resolve("tools/guest/make-disk.sh");
        Path disk = scratch().resolve("metit.img");
        Process p = new ProcessBuilder("bash", makeDisk.toString(), disk.toString(), "16").inheritIO().start();
        assertTrue("make-disk.sh finished", p.waitFor(60, TimeUnit.SECONDS));
        assertEquals("make-disk.sh exit code", 0, p.exitValue());

        Path root = scratch().resolve("kvm");
        Configuration cfg = configAdmin.getFactoryConfiguration("org.hvkit.kvm", "metnode", "?");
        // the shared node configuration; this node never migrates, its port is only a unique one
        cfg.update(new Hashtable<>(kvmNodeProperties(NODE, root, 18331)));
        Path log = root.resolve("ctrl/" + NAME + ".serial.log");
        try {
            Hypervisor hv = awaitHypervisor("(&(hypervisor.type=kvm)(hypervisor.node=" + NODE + "))", Duration.ofSeconds(30));
            ObjectName hvName = new ObjectName("org.hvkit:type=Hypervisor,node=\"" + NODE + "\",hvtype=\"kvm\"");
            waitFor("the Hypervisor MBean", Duration.ofSeconds(30), () -> mbeanServer.isRegistered(hvName));
            assertEquals(0, mbeanServer.getAttribute(hvName, "InstanceCount"));

            hv.startInstance(InstanceJson.read(guestJson(guest, disk)), false);
            waitFor("DISK-HEARTBEAT 2 in the serial log", Duration.ofSeconds(90),
                    () -> readQuietly(log).contains("DISK-HEARTBEAT 2"));

            // JMX: the Hypervisor MBean lists it, its Instance MBean reads its figures
            assertEquals(List.of(NAME), List.of((String[]) mbeanServer.getAttribute(hvName, "Instances")));
            ObjectName inst = new ObjectName("org.hvkit:type=Instance,node=" + ObjectName.quote(NODE) + ",name="
                    + ObjectName.quote(NAME));
            assertTrue(mbeanServer.isRegistered(inst));
            assertEquals(NAME, mbeanServer.getAttribute(inst, "Name"));
            assertEquals("RUNNING", mbeanServer.getAttribute(inst, "State"));
            waitFor("a fresh reading with CPU time, RSS and disk writes", Duration.ofSeconds(30), () -> {
                try {
                    return !(Boolean) mbeanServer.getAttribute(inst, "Stale")
                            && (Double) mbeanServer.getAttribute(inst, "CpuSeconds") > 0
                            && (Long) mbeanServer.getAttribute(inst, "RssBytes") > 0
                            && (Long) mbeanServer.getAttribute(inst, "DiskWriteBytes") > 0;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            assertTrue((Double) mbeanServer.getAttribute(inst, "UptimeSeconds") > 0);
            assertEquals("no NIC", -1L, mbeanServer.getAttribute(inst, "NetRxBytes"));

            // Prometheus: two scrapes, the counters grow between them
            String first = scrapeWhen("a scrape with the instance's CPU and disk figures", t ->
                    sample(t, "hvkit_instance_cpu_seconds_total") > 0
                            && sample(t, "hvkit_instance_disk_written_bytes_total") > 0);
            System.err.println("[hvkit-it] first scrape:\n" + first);
            assertTrue(first, first.contains("# TYPE hvkit_instance_cpu_seconds_total counter\n"));
            assertTrue(first, first.contains("# TYPE hvkit_instance_resident_memory_bytes gauge\n"));
            assertEquals(first, 1.0, sample(first, "hvkit_instance_up"), 0);
            assertTrue(first, sample(first, "hvkit_instance_resident_memory_bytes") > 0);
            assertTrue(first, first.contains("hvkit_node_scrape_complete{node=\"" + NODE + "\"} 1\n"));
            assertFalse("no unknown figure exported as -1:\n" + first, first.contains(" -1\n"));
            assertFalse("no NIC, no network samples:\n" + first, first.contains("hvkit_instance_network_"));
            double cpu1 = sample(first, "hvkit_instance_cpu_seconds_total");
            double written1 = sample(first, "hvkit_instance_disk_written_bytes_total");
            int beat = lastHeartbeat(log);
            waitFor("three more heartbeats", Duration.ofSeconds(60), () -> lastHeartbeat(log) >= beat + 3);
            String second = scrapeWhen("a scrape where CPU time and disk writes grew", t ->
                    sample(t, "hvkit_instance_cpu_seconds_total") > cpu1
                            && sample(t, "hvkit_instance_disk_written_bytes_total") > written1);
            assertTrue(second, sample(second, "hvkit_instance_cpu_seconds_total") > cpu1);

            // a bad name through JMX: a clear error, nothing stopped
            String[] sig = {String.class.getName()};
            try {
                mbeanServer.invoke(hvName, "stopInstance", new Object[] {"../" + NAME}, sig);
                fail("an invalid name was accepted");
            } catch (RuntimeMBeanException e) {
                assertTrue(String.valueOf(e.getCause()), e.getCause() instanceof IllegalArgumentException
                        && e.getCause().getMessage().startsWith("Invalid instance name '../" + NAME + "'"));
            }
            try {
                mbeanServer.invoke(hvName, "rebootInstance", new Object[] {"nosuch"}, sig);
                fail("an unknown name was accepted");
            } catch (RuntimeMBeanException e) {
                assertEquals("Cannot reboot instance nosuch: not running on kvm@" + NODE, e.getCause().getMessage());
            }
            assertEquals("RUNNING", mbeanServer.getAttribute(inst, "State"));

            // through Karaf's JMX connector, under jmx.acl.org.hvkit: a viewer reads, only an admin operates
            Dictionary<String, Object> acl = configAdmin.getConfiguration("jmx.acl.org.hvkit", null).getProperties();
            assertNotNull("the feature's JMX ACL is configured", acl);
            assertEquals("admin", acl.get("stopInstance"));
            try (JMXConnector viewer = connect("metricsviewer", System.getProperty(PASSWORD))) {
                MBeanServerConnection c = viewer.getMBeanServerConnection();
                assertEquals(1, c.getAttribute(hvName, "InstanceCount"));
                assertEquals(NAME, c.getAttribute(inst, "Name"));
                assertEquals(false, c.getAttribute(inst, "Stale"));
                try {
                    c.invoke(hvName, "stopInstance", new Object[] {NAME}, sig);
                    fail("a viewer stopped an instance");
                } catch (SecurityException e) {
                    System.err.println("[hvkit-it] viewer's stopInstance: " + e);
                }
            }
            assertEquals("RUNNING", mbeanServer.getAttribute(inst, "State"));
            try (JMXConnector admin = connect("metricsadmin", System.getProperty(PASSWORD))) {
                MBeanServerConnection c = admin.getMBeanServerConnection();
                try {
                    c.invoke(hvName, "stopInstance", new Object[] {"../" + NAME}, sig);
                    fail("an invalid name was accepted over the connector");
                } catch (RuntimeMBeanException e) {
                    assertTrue(String.valueOf(e.getCause()), e.getCause() instanceof IllegalArgumentException
                            && e.getCause().getMessage().startsWith("Invalid instance name '../" + NAME + "'"));
                }
            }
            assertEquals("RUNNING", mbeanServer.getAttribute(inst, "State"));

            // a clean stop through JMX: gone from both
            mbeanServer.invoke(hvName, "stopInstance", new Object[] {NAME}, sig);
            assertTrue("ACPI powerdown reached the guest", readQuietly(log).contains("GUEST-POWERDOWN"));
            assertFalse("the instance MBean is gone", mbeanServer.isRegistered(inst));
            assertEquals(0, mbeanServer.getAttribute(hvName, "InstanceCount"));
            String after = scrape();
            assertFalse(after, after.contains("instance=\"" + NAME + "\""));
            assertTrue(after, after.contains("hvkit_node_scrape_complete{node=\"" + NODE + "\"} 1\n"));
        } finally {
            Hypervisor hv = awaitHypervisor("(hypervisor.node=" + NODE + ")", Duration.ofSeconds(30));
            hv.stopInstanceByName(NAME);
            hv.cleanupInstance(NAME);
            cfg.delete();
        }
        ObjectName hvName = new ObjectName("org.hvkit:type=Hypervisor,node=\"" + NODE + "\",hvtype=\"kvm\"");
        waitFor("the Hypervisor MBean to go with its node", Duration.ofSeconds(30), () -> !mbeanServer.isRegistered(hvName));
        assertNotNull(bundle("org.hvkit.metrics"));
    }
}
