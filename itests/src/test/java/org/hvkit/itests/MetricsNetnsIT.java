package org.hvkit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.maven;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.features;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.inject.Inject;
import javax.management.MBeanServer;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.InstanceJson;
import org.junit.Assume;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The {@code hvkit-metrics} feature in a Karaf that runs, with this test, as root in private
 * network and mount namespaces (itests/pom.xml's {@code netns} execution), with two real guests
 * on a KVM node (TCG): {@value #NAME} has a NIC bridged to {@value #BRIDGE}, pings the bridge
 * and writes to its disk every second; {@value #FROZEN} is a second QEMU that is later frozen
 * (cgroup freezer: not stopped, it just stops answering QMP). Proves issue #17's acceptance:
 * <ul>
 * <li>two reads of the Instance MBean and two scrapes of {@code /metrics} over HTTP show the CPU,
 * disk-write and the NIC's rx/tx byte and packet counters growing (the host pings the guest in
 * between);</li>
 * <li>a QEMU that stops answering QMP does not hold the scrape: it comes back within the
 * collector's bound, that instance {@code stale}, the other one's figures fresh;</li>
 * <li>JMX operations with bad arguments give clear errors; over Karaf's RMI connector the
 * feature's {@code jmx.acl.org.hvkit} (installed, with its rules) decides as issue #17 asks:
 * a viewer reads but operates nothing, a manager operates nothing either, an admin may;</li>
 * <li>a stopped instance disappears from both.</li>
 * </ul>
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class MetricsNetnsIT extends HvkitTestSupport {

    private static final String NODE = "node-met";
    private static final String NAME = "metit";
    private static final String FROZEN = "metfrz";
    private static final String BRIDGE = "brmet";
    private static final String HOST_IP = "10.66.0.1";
    private static final String GUEST_IP = "10.66.0.2";
    private static final String HTTP_PORT = "hvkit.it.http.port";
    /** The JMX users' password, made by {@link #config} in the driver's JVM and passed on to the container's. */
    private static final String PASSWORD = "hvkit.it.jmx.password";
    /** What the netns-jvm wrapper said about the namespaces (HVKIT_NETNS), passed on to the container. */
    private static final String NETNS = "hvkit.it.netns";
    private static final String REQUIRE_NATIVE = "hvkit.it.requireNative";
    private static final String[] SIG = {String.class.getName()};

    @Inject
    private ConfigurationAdmin configAdmin;

    @Inject
    private MBeanServer mbeanServer;

    private ObjectName hvName;
    private ObjectName inst;

    @Override
    @org.ops4j.pax.exam.Configuration
    public Option[] config() throws IOException {
        String port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = Integer.toString(s.getLocalPort());
        }
        String password = java.util.UUID.randomUUID().toString();
        List<Option> all = new ArrayList<>(List.of(super.config()));
        all.add(editConfigurationFilePut("etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", port));
        all.add(systemProperty(HTTP_PORT).value(port));
        // three users of Karaf's JMX connector (Karaf 4.4 guards the connector itself: no MBeanServerBuilder)
        all.add(editConfigurationFilePut("etc/users.properties", "metricsadmin", password + ",admin,viewer"));
        all.add(editConfigurationFilePut("etc/users.properties", "metricsmanager", password + ",manager,viewer"));
        all.add(editConfigurationFilePut("etc/users.properties", "metricsviewer", password + ",viewer"));
        all.add(systemProperty(PASSWORD).value(password));
        // org.hvkit.metrics from etc/: every Instance MBean read asks afresh, so two reads a second apart differ
        all.add(editConfigurationFilePut("etc/org.hvkit.metrics.cfg", "jmx.cache.millis", "0"));
        all.add(systemProperty(NETNS).value(String.valueOf(System.getenv("HVKIT_NETNS"))));
        all.add(systemProperty(REQUIRE_NATIVE).value(String.valueOf(System.getenv("HVKIT_REQUIRE_NATIVE"))));
        all.add(features(maven().groupId("org.hvkit").artifactId("hvkit-features")
                .version(System.getProperty("hvkit.version")).type("xml").classifier("features"), "hvkit-metrics"));
        return all.toArray(new Option[0]);
    }

    /** This test needs the private namespaces; without them it fails under HVKIT_REQUIRE_NATIVE=1, else skips loudly. */
    private static void requireNetns() {
        String netns = System.getProperty(NETNS);
        if ("private".equals(netns)) {
            return;
        }
        String why = "MetricsNetnsIT needs the private network namespace of itests/pom.xml's netns execution (root;"
                + " run it with -Dit.test=none -Dhvkit.netns.its=MetricsNetnsIT), got HVKIT_NETNS=" + netns;
        if ("1".equals(System.getProperty(REQUIRE_NATIVE))) {
            fail(why);
        }
        System.err.println("SKIPPED: " + why);
        Assume.assumeTrue(why, false);
    }

    private static String guestJson(String name, Path guest, String disk, String nic, String args) {
        return "{\"name\": \"" + name + "\", \"hypervisor\": \"kvm\", \"primary_node\": \"" + NODE + "\","
                + " \"beparams\": {\"memory\": 128, \"vcpus\": 1}, \"disk_template\": \""
                + (disk.isEmpty() ? "diskless" : "sharedfile") + "\","
                + " \"disks\": [" + disk + "], \"nics\": [" + nic + "],"
                + " \"hvparams\": {\"kernel_path\": \"" + guest.resolve("vmlinuz") + "\","
                + " \"initrd_path\": \"" + guest.resolve("initramfs.gz") + "\", \"root_path\": \"/dev/ram0\","
                + " \"kernel_args\": \"panic=-1 " + args + "\", \"kvm_flag\": \"disabled\","
                + " \"disk_cache\": \"none\", \"security_model\": \"none\"}}";
    }

    /** Runs a command (ip, mount, …) that must succeed within 30 s. */
    private static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(String.join(" ", cmd) + " finished", p.waitFor(30, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(String.join(" ", cmd) + ": " + out, 0, p.exitValue());
    }

    /** A connection through Karaf's JMX connector (RMI) as {@code user}, opened within 60 s. */
    private JMXConnector connect(String user) throws Exception {
        Dictionary<String, Object> mgmt = configAdmin.getConfiguration("org.apache.karaf.management", null).getProperties();
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi://127.0.0.1:" + mgmt.get("rmiServerPort")
                + "/jndi/rmi://127.0.0.1:" + mgmt.get("rmiRegistryPort") + "/karaf-" + bundleContext.getProperty("karaf.name"));
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try {
            return ex.submit(() -> JMXConnectorFactory.connect(url, Map.of(JMXConnector.CREDENTIALS,
                    new String[] {user, System.getProperty(PASSWORD)}))).get(60, TimeUnit.SECONDS);
        } finally {
            ex.shutdownNow();
        }
    }

    /** GET /metrics on Karaf's HTTP port: the status must be 200 and the type the 0.0.4 text format. */
    private static String scrape() throws IOException {
        return scrape("", null, "text/plain; version=0.0.4; charset=utf-8");
    }

    /**
     * GET /metrics{@code query} with {@code accept} as the Accept header (none when null): the
     * status must be 200 and the Content-Type {@code type}.
     */
    private static String scrape(String query, String accept, String type) throws IOException {
        URL url = new URL("http://127.0.0.1:" + System.getProperty(HTTP_PORT) + "/metrics" + query);
        HttpURLConnection c = (HttpURLConnection) url.openConnection();
        c.setConnectTimeout(10_000);
        c.setReadTimeout(30_000);
        if (accept != null) {
            c.setRequestProperty("Accept", accept);
        }
        try {
            int status = c.getResponseCode();
            if (status != 200) {
                throw new IOException("GET " + url + ": HTTP " + status);
            }
            assertEquals(type, c.getContentType().toLowerCase());
            try (InputStream in = c.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } finally {
            c.disconnect();
        }
    }

    /** The value of {@code hvkit_node_scrape_complete} for {@code node}, or -1 when there is none. */
    private static double complete(String text, String node) {
        Matcher m = Pattern.compile("(?m)^hvkit_node_scrape_complete\\{node=\"" + Pattern.quote(node) + "\",?} (\\S+)$")
                .matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    /** The value of the first sample of {@code family} for instance {@code name}, or -1 when there is none. */
    private static double sample(String text, String family, String name) {
        Matcher m = Pattern.compile("(?m)^" + family + "\\{instance=\"" + name + "\",node=\"" + NODE
                + "\"[^}]*} (\\S+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    private static double sample(String text, String family) {
        return sample(text, family, NAME);
    }

    private String scrapeWhen(String what, Predicate<String> ok) throws InterruptedException {
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

    private Object attr(ObjectName name, String attribute) {
        try {
            return mbeanServer.getAttribute(name, attribute);
        } catch (Exception e) {
            throw new AssertionError(name + " " + attribute, e);
        }
    }

    /** The NIC counters the Instance MBean shows now, read through {@code c}. */
    private long[] mbeanNet(MBeanServerConnection c) throws Exception {
        return new long[] {(Long) c.getAttribute(inst, "NetRxBytes"), (Long) c.getAttribute(inst, "NetTxBytes")};
    }

    @Test
    public void mbeansAndScrapesOfRealGuestsWithNetworkDiskAndAHungQemu() throws Exception {
        requireNetns();
        assertTrue("QEMU is installed (.ci/run installs qemu-system-x86)", Files.isExecutable(QEMU));
        Path guest = Path.of(System.getProperty("hvkit.guest.dir"));
        assertTrue("the test guest was built by the kvm module's build", Files.isRegularFile(guest.resolve("vmlinuz")));
        Path makeDisk = guest.getParent().getParent().resolve("tools/guest/make-disk.sh");
        Path disk = scratch().resolve("metit.img");
        Process p = new ProcessBuilder("bash", makeDisk.toString(), disk.toString(), "16").inheritIO().start();
        assertTrue("make-disk.sh finished", p.waitFor(60, TimeUnit.SECONDS));
        assertEquals("make-disk.sh exit code", 0, p.exitValue());
        sh("ip", "link", "add", BRIDGE, "type", "bridge");
        sh("ip", "addr", "add", HOST_IP + "/24", "dev", BRIDGE);
        sh("ip", "link", "set", BRIDGE, "up");

        Path root = scratch().resolve("kvm");
        Configuration cfg = configAdmin.getFactoryConfiguration("org.hvkit.kvm", "metnode", "?");
        // the shared node configuration; this node never migrates, its port is only a unique one
        cfg.update(new Hashtable<>(kvmNodeProperties(NODE, root, 18331)));
        Path log = root.resolve("ctrl/" + NAME + ".serial.log");
        Freezer freezer = new Freezer(scratch().resolve("freezer"));
        try {
            Hypervisor hv = awaitHypervisor("(&(hypervisor.type=kvm)(hypervisor.node=" + NODE + "))", Duration.ofSeconds(30));
            hvName = new ObjectName("org.hvkit:type=Hypervisor,node=\"" + NODE + "\",hvtype=\"kvm\"");
            inst = new ObjectName("org.hvkit:type=Instance,node=" + ObjectName.quote(NODE) + ",name="
                    + ObjectName.quote(NAME));
            waitFor("the Hypervisor MBean", Duration.ofSeconds(30), () -> mbeanServer.isRegistered(hvName));
            assertEquals(0, mbeanServer.getAttribute(hvName, "InstanceCount"));

            hv.startInstance(InstanceJson.read(guestJson(NAME, guest,
                    "{\"dev_path\": \"" + disk + "\", \"mode\": \"rw\", \"size\": 16}",
                    "{\"mac\": \"aa:00:00:00:66:02\", \"nicparams\": {\"mode\": \"bridged\", \"link\": \"" + BRIDGE + "\"}}",
                    "guest.disk=/dev/vda guest.ip=" + GUEST_IP + "/24 guest.ping=" + HOST_IP)), false);
            hv.startInstance(InstanceJson.read(guestJson(FROZEN, guest, "", "", "")), false);
            waitFor("GUEST-PING-OK and DISK-HEARTBEAT 2 in the serial log", Duration.ofSeconds(90), () -> {
                String serial = readQuietly(log);
                return serial.contains("GUEST-PING-OK " + HOST_IP) && serial.contains("DISK-HEARTBEAT 2");
            });

            mbeansShowTheFigures();
            // the Instance MBean read twice as an operator would: over Karaf's RMI connector, as a viewer
            JMXConnector viewer = connect("metricsviewer");
            long[] net1 = mbeanNet(viewer.getMBeanServerConnection());

            // Prometheus: two scrapes, with the host pinging the guest in between; the counters grow
            String first = scrapeWhen("a scrape with the instance's CPU, disk and NIC figures", t ->
                    sample(t, "hvkit_instance_cpu_seconds_total") > 0
                            && sample(t, "hvkit_instance_disk_written_bytes_total") > 0
                            && sample(t, "hvkit_instance_network_transmit_packets_total") >= 3
                            && sample(t, "hvkit_instance_stale", FROZEN) == 0);
            System.err.println("[hvkit-it] first scrape:\n" + first);
            assertTrue(first, first.contains("# TYPE hvkit_instance_cpu_seconds_total counter\n"));
            assertTrue(first, first.contains("# TYPE hvkit_instance_resident_memory_bytes gauge\n"));
            assertTrue(first, first.contains("# TYPE hvkit_instance_network_receive_bytes_total counter\n"));
            assertEquals(first, 1.0, sample(first, "hvkit_instance_up"), 0);
            assertEquals(first, 0.0, sample(first, "hvkit_instance_stale"), 0);
            assertTrue(first, sample(first, "hvkit_instance_resident_memory_bytes") > 0);
            assertEquals(first, 1.0, complete(first, NODE), 0);
            assertTrue("the NIC's samples carry its index:\n" + first, first.contains(
                    "hvkit_instance_network_receive_bytes_total{instance=\"" + NAME + "\",node=\"" + NODE + "\",nic=\"0\","));
            assertFalse("no unknown figure exported as -1:\n" + first,
                    Pattern.compile("(?m) -1(\\.0)?$").matcher(first).find());
            // the Prometheus client's formats: OpenMetrics when the scraper asks for it, and name[]
            String open = scrape("", "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5",
                    "application/openmetrics-text; version=1.0.0; charset=utf-8");
            assertTrue(open, open.contains("# TYPE hvkit_instance_cpu_seconds counter\n")
                    && open.contains("hvkit_instance_cpu_seconds_total{instance=\"" + NAME + "\",node=\"" + NODE + "\"} ")
                    && open.endsWith("# EOF\n"));
            String named = scrape("?name[]=hvkit_instance_up", null, "text/plain; version=0.0.4; charset=utf-8");
            assertTrue(named, named.contains("hvkit_instance_up{instance=\"" + NAME + "\"")
                    && !named.contains("hvkit_instance_cpu_seconds_total"));
            assertFalse("a guest without NIC has no network samples:\n" + first,
                    first.contains("network_receive_bytes_total{instance=\"" + FROZEN + "\""));
            String[] counters = {"hvkit_instance_cpu_seconds_total", "hvkit_instance_disk_written_bytes_total",
                "hvkit_instance_network_receive_bytes_total", "hvkit_instance_network_transmit_bytes_total",
                "hvkit_instance_network_receive_packets_total", "hvkit_instance_network_transmit_packets_total"};
            double[] before = new double[counters.length];
            for (int i = 0; i < counters.length; i++) {
                before[i] = sample(first, counters[i]);
            }
            int beat = lastHeartbeat(log);
            InetAddress guestAddress = InetAddress.getByName(GUEST_IP);
            int answered = 0;
            for (int i = 0; i < 3; i++) {
                answered += guestAddress.isReachable(2000) ? 1 : 0; // as root: ICMP echo
            }
            assertTrue("the guest answered the host's pings", answered > 0);
            waitFor("two more heartbeats", Duration.ofSeconds(60), () -> lastHeartbeat(log) >= beat + 2);
            String second = scrapeWhen("a scrape where every counter grew", t -> {
                for (int i = 0; i < counters.length; i++) {
                    if (!(sample(t, counters[i]) > before[i])) {
                        return false;
                    }
                }
                return true;
            });
            System.err.println("[hvkit-it] second scrape:\n" + second);
            long[] net2 = mbeanNet(viewer.getMBeanServerConnection());
            viewer.close();
            assertTrue("the MBean's NetRxBytes grew: " + net1[0] + " -> " + net2[0], net2[0] > net1[0]);
            assertTrue("the MBean's NetTxBytes grew: " + net1[1] + " -> " + net2[1], net2[1] > net1[1]);

            aQemuThatStopsAnsweringDoesNotHoldTheScrape(hv, freezer);
            badArgumentsAndTheAcl();

            // a clean stop through JMX: gone from both
            mbeanServer.invoke(hvName, "stopInstance", new Object[] {NAME}, SIG);
            assertTrue("ACPI powerdown reached the guest", readQuietly(log).contains("GUEST-POWERDOWN"));
            assertFalse("the instance MBean is gone", mbeanServer.isRegistered(inst));
            assertEquals(List.of(FROZEN), List.of((String[]) mbeanServer.getAttribute(hvName, "Instances")));
            String after = scrape();
            assertFalse(after, after.contains("instance=\"" + NAME + "\""));
            assertTrue(after, after.contains("instance=\"" + FROZEN + "\""));
            assertEquals(after, 1.0, complete(after, NODE), 0);
        } finally {
            try {
                freezer.close(); // a frozen QEMU cannot even be killed
            } finally {
                Hypervisor hv = awaitHypervisor("(hypervisor.node=" + NODE + ")", Duration.ofSeconds(30));
                for (String name : List.of(NAME, FROZEN)) {
                    hv.stopInstanceByName(name);
                    hv.cleanupInstance(name);
                }
                cfg.delete();
                new ProcessBuilder("ip", "link", "del", BRIDGE).start().waitFor(30, TimeUnit.SECONDS);
            }
        }
        ObjectName hvGone = new ObjectName("org.hvkit:type=Hypervisor,node=\"" + NODE + "\",hvtype=\"kvm\"");
        waitFor("the Hypervisor MBean to go with its node", Duration.ofSeconds(30), () -> !mbeanServer.isRegistered(hvGone));
        assertNotNull(bundle("org.hvkit.metrics"));
    }

    /**
     * {@code org.hvkit.metrics} in Karaf: a changed {@code scrape.timeout.seconds} bounds the scrape
     * with a node whose statistics never come (a service this test registers), and a value out of
     * range keeps the components inactive (no endpoint, SCR's failure names the key) until fixed.
     */
    @Test
    public void theScrapeTimeoutIsConfigurationAndABadValueStopsTheEndpoint() throws Exception {
        requireNetns();
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        org.hvkit.hypervisor.InstanceStatistics hung = new org.hvkit.hypervisor.InstanceStatistics() {
            @Override
            public List<org.hvkit.hypervisor.InstanceStats> allInstanceStatistics() {
                try {
                    release.await(120, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return List.of();
            }

            @Override
            public java.util.Optional<org.hvkit.hypervisor.InstanceStats> instanceStatistics(String name) {
                return java.util.Optional.empty();
            }
        };
        Hashtable<String, Object> props = new Hashtable<>(Map.of(Hypervisor.NODE_PROPERTY, "node-hung"));
        org.osgi.framework.ServiceRegistration<?> reg = bundleContext.registerService(
                org.hvkit.hypervisor.InstanceStatistics.class, hung, props);
        Configuration metrics = configAdmin.getConfiguration("org.hvkit.metrics", null);
        Dictionary<String, Object> original = metrics.getProperties();
        try {
            metrics.update(new Hashtable<>(Map.of("jmx.cache.millis", "0", "scrape.timeout.seconds", "2")));
            long[] took = new long[1];
            String text = scrapeWhen("a scrape bounded by the new 2 s", t -> {
                if (complete(t, "node-hung") != 0) {
                    return false;
                }
                try {
                    long t0 = System.nanoTime();
                    String again = scrape();
                    took[0] = System.nanoTime() - t0;
                    return complete(again, "node-hung") == 0;
                } catch (IOException e) {
                    return false;
                }
            });
            Duration d = Duration.ofNanos(took[0]);
            System.err.println("[hvkit-it] scrape with a hung node, scrape.timeout.seconds=2: " + d.toMillis() + " ms");
            assertTrue("waited the configured 2 s for the hung node, not the default 8 s: " + d,
                    d.compareTo(Duration.ofMillis(1900)) >= 0 && d.compareTo(Duration.ofSeconds(6)) < 0);
            assertTrue(text, text.contains("hvkit_scrape_duration_seconds "));

            metrics.update(new Hashtable<>(Map.of("jmx.cache.millis", "0", "scrape.timeout.seconds", "0")));
            String failure = awaitFailedActivation("org.hvkit.metrics.internal.JmxExporter", Duration.ofSeconds(30));
            assertTrue(failure, failure.contains(
                    "org.hvkit.metrics: scrape.timeout.seconds must be a whole number from 1 to 300, got '0'"));
            waitFor("/metrics to go", Duration.ofSeconds(30), () -> {
                try {
                    scrape();
                    return false;
                } catch (IOException e) {
                    return e.getMessage().endsWith("HTTP 404");
                }
            });
            ObjectName ours = new ObjectName("org.hvkit:*");
            waitFor("no hvkit MBeans without a valid configuration", Duration.ofSeconds(30),
                    () -> mbeanServer.queryNames(ours, null).isEmpty());
        } finally {
            if (original == null) {
                metrics.delete();
            } else {
                metrics.update(original);
            }
            reg.unregister();
            release.countDown();
        }
        scrapeWhen("/metrics back once the value is fixed", t -> t.contains("hvkit_scrape_duration_seconds ")
                && !t.contains("node-hung"));
        waitFor("the MBeans back", Duration.ofSeconds(30), () -> {
            try {
                return !mbeanServer.queryNames(new ObjectName("org.hvkit:type=Hypervisor,*"), null).isEmpty();
            } catch (javax.management.MalformedObjectNameException e) {
                throw new AssertionError(e);
            }
        });
    }

    /** The Hypervisor MBean lists both instances, the Instance MBean reads the NIC guest's figures. */
    private void mbeansShowTheFigures() throws Exception {
        assertEquals(List.of(FROZEN, NAME), List.of((String[]) mbeanServer.getAttribute(hvName, "Instances")));
        assertTrue(mbeanServer.isRegistered(inst));
        assertEquals(NAME, attr(inst, "Name"));
        assertEquals("RUNNING", attr(inst, "State"));
        waitFor("a fresh reading with CPU time, RSS, disk writes and NIC counters", Duration.ofSeconds(30), () ->
                !(Boolean) attr(inst, "Stale") && (Double) attr(inst, "CpuSeconds") > 0
                        && (Long) attr(inst, "RssBytes") > 0 && (Long) attr(inst, "DiskWriteBytes") > 0
                        && (Long) attr(inst, "NetRxBytes") > 0 && (Long) attr(inst, "NetTxBytes") > 0);
        assertTrue((Double) attr(inst, "UptimeSeconds") > 0);
        assertTrue((Long) attr(inst, "NetDrops") >= 0);
    }

    /**
     * {@value #FROZEN} frozen (cgroup freezer: state D, so the collector asks QMP and gets no answer):
     * the scrape comes back within the collector's pass deadline (1.5 s by default; the scrape's own
     * bound is 8 s), that instance stale and down, the NIC guest's figures fresh; its MBean reads
     * stale too. Thawed, it answers again.
     */
    private void aQemuThatStopsAnsweringDoesNotHoldTheScrape(Hypervisor hv, Freezer freezer) throws Exception {
        long pid = java.util.Objects.requireNonNull(hv.instanceInfo(FROZEN)).pid();
        freezer.freeze(pid);
        ObjectName frozen = new ObjectName("org.hvkit:type=Instance,node=" + ObjectName.quote(NODE) + ",name="
                + ObjectName.quote(FROZEN));
        // its last answer (younger than 3 s) is still given for a moment: scrape until it is stale, then
        // once more; no scrape may take longer than the collector's bound
        long worst = 0;
        String text = "";
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        for (int staleScrapes = 0; staleScrapes < 2; ) {
            assertTrue("the frozen instance became stale within 60 s; last scrape:\n" + text, System.nanoTime() < deadline);
            long t0 = System.nanoTime();
            text = scrape();
            worst = Math.max(worst, System.nanoTime() - t0);
            staleScrapes += sample(text, "hvkit_instance_stale", FROZEN) == 1 ? 1 : 0;
            Thread.sleep(100);
        }
        Duration took = Duration.ofNanos(worst);
        System.err.println("[hvkit-it] scrapes with a frozen QEMU: the slowest took " + took.toMillis() + " ms:\n" + text);
        assertTrue("a scrape with a hung QEMU came back within the collector's bound: " + took,
                took.compareTo(Duration.ofSeconds(5)) < 0);
        assertEquals(text, 1.0, sample(text, "hvkit_instance_stale", FROZEN), 0);
        assertEquals(text, 0.0, sample(text, "hvkit_instance_up", FROZEN), 0);
        assertTrue("its /proc figures still come:\n" + text, sample(text, "hvkit_instance_cpu_seconds_total", FROZEN) > 0);
        assertEquals(text, 0.0, sample(text, "hvkit_instance_stale"), 0);
        assertEquals(text, 1.0, sample(text, "hvkit_instance_up"), 0);
        assertTrue(text, sample(text, "hvkit_instance_network_receive_bytes_total") > 0);
        assertEquals(text, 1.0, complete(text, NODE), 0);
        assertEquals(true, attr(frozen, "Stale"));
        assertEquals("UNRESPONSIVE", attr(frozen, "State"));
        assertTrue(String.valueOf(attr(frozen, "StaleReason")), String.valueOf(attr(frozen, "StaleReason"))
                .startsWith("QMP"));
        freezer.thaw();
        waitFor("the thawed QEMU to answer again", Duration.ofSeconds(30), () -> !(Boolean) attr(frozen, "Stale"));
    }

    /** Bad names through JMX give clear errors; over the RMI connector, jmx.acl.org.hvkit decides who may do what. */
    private void badArgumentsAndTheAcl() throws Exception {
        invalidNameRefused(mbeanServer);
        String notRunning = "Cannot reboot instance nosuch: not running on kvm@" + NODE;
        try {
            mbeanServer.invoke(hvName, "rebootInstance", new Object[] {"nosuch"}, SIG);
            fail("an unknown name was accepted");
        } catch (RuntimeMBeanException e) {
            assertEquals(notRunning, e.getCause().getMessage());
        }
        assertEquals("RUNNING", attr(inst, "State"));

        Dictionary<String, Object> acl = configAdmin.getConfiguration("jmx.acl.org.hvkit", null).getProperties();
        assertNotNull("the feature's JMX ACL is configured", acl);
        // a viewer reads and operates nothing
        try (JMXConnector viewer = connect("metricsviewer")) {
            MBeanServerConnection c = viewer.getMBeanServerConnection();
            assertEquals(2, c.getAttribute(hvName, "InstanceCount"));
            assertEquals(NAME, c.getAttribute(inst, "Name"));
            assertEquals(false, c.getAttribute(inst, "Stale"));
            refused(c, "viewer", "stopInstance", NAME);
            refused(c, "viewer", "rebootInstance", "nosuch");
        }
        // the operations are the admin's alone (issue #17): an operator's manager role is refused both
        assertEquals("admin", String.valueOf(acl.get("rebootInstance")).strip());
        assertEquals("admin", String.valueOf(acl.get("stopInstance")).strip());
        try (JMXConnector manager = connect("metricsmanager")) {
            MBeanServerConnection c = manager.getMBeanServerConnection();
            assertEquals(2, c.getAttribute(hvName, "InstanceCount"));
            refused(c, "manager", "rebootInstance", "nosuch");
            refused(c, "manager", "stopInstance", NAME);
        }
        assertEquals("RUNNING", attr(inst, "State"));
        // an admin may call both (here with a bad name: the MBean's own error comes back)
        try (JMXConnector admin = connect("metricsadmin")) {
            invalidNameRefused(admin.getMBeanServerConnection());
        }
        assertEquals("RUNNING", attr(inst, "State"));
    }

    /** stopInstance("../metit") fails with the SPI's name error, locally or over the connector. */
    private void invalidNameRefused(MBeanServerConnection c) throws Exception {
        try {
            c.invoke(hvName, "stopInstance", new Object[] {"../" + NAME}, SIG);
            fail("an invalid name was accepted");
        } catch (RuntimeMBeanException e) {
            assertTrue(String.valueOf(e.getCause()), e.getCause() instanceof IllegalArgumentException
                    && e.getCause().getMessage().startsWith("Invalid instance name '../" + NAME + "'"));
        }
    }

    private void refused(MBeanServerConnection c, String who, String operation, String name) throws Exception {
        try {
            c.invoke(hvName, operation, new Object[] {name}, SIG);
            fail("a " + who + " was allowed " + operation);
        } catch (SecurityException e) {
            System.err.println("[hvkit-it] " + who + "'s " + operation + ": " + e);
        }
    }

    /**
     * A cgroup (v1 freezer) of this test's own, mounted in the test's private mount namespace
     * (the wrapper remounted /sys, which hides the host's cgroup mounts): a frozen process is in
     * state D, alive but silent. {@link #close} thaws it, moves it back and removes the cgroup.
     */
    private static final class Freezer implements AutoCloseable {
        private final Path mount;
        private final Path group;
        private long pid = -1;
        private boolean mounted;

        Freezer(Path mount) {
            this.mount = mount;
            this.group = mount.resolve("hvkit-it-" + java.util.UUID.randomUUID());
        }

        void freeze(long pid) throws Exception {
            Files.createDirectories(mount);
            sh("mount", "-t", "cgroup", "-o", "freezer", "hvkit-it-freezer", mount.toString());
            mounted = true;
            Files.createDirectory(group);
            this.pid = pid;
            Files.writeString(group.resolve("cgroup.procs"), Long.toString(pid));
            Files.writeString(group.resolve("freezer.state"), "FROZEN");
            waitFor("the QEMU frozen", Duration.ofSeconds(10),
                    () -> readQuietly(group.resolve("freezer.state")).trim().equals("FROZEN"));
        }

        void thaw() throws IOException {
            if (pid > 0) {
                Files.writeString(group.resolve("freezer.state"), "THAWED");
            }
        }

        @Override
        public void close() throws Exception {
            if (!mounted) {
                return;
            }
            try {
                thaw();
                if (pid > 0 && Files.exists(Path.of("/proc/" + pid))) {
                    Files.writeString(mount.resolve("cgroup.procs"), Long.toString(pid));
                }
                Files.deleteIfExists(group);
            } finally {
                sh("umount", mount.toString());
            }
        }
    }
}
