package org.hvkit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

import javax.inject.Inject;

import org.apache.karaf.features.FeaturesService;
import org.hvkit.hypervisor.Hypervisor;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.ServiceReference;

/**
 * The {@code hvkit-remote} feature in one Karaf (issue #16): before it is installed nothing
 * listens on the configured port; once installed, the fake hypervisor of node-a is exported as a
 * facade through Aries RSA's TCP provider at the configured address and port — a request in the
 * provider's own wire format gets node-a's answer, a request carrying a forbidden class is
 * refused — while the shell still lists node-a once, as local; once the feature is uninstalled
 * nothing listens again. (Two Karafs on two hosts: the two-host harness.)
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RemoteIT extends HvkitTestSupport {

    private static final String PORT = "hvkit.it.remote.port";
    private static final String ADDRESS = "127.0.0.1";

    @Inject
    private FeaturesService featuresService;

    @Override
    @org.ops4j.pax.exam.Configuration
    public Option[] config() throws IOException {
        String port = unusedPort();
        List<Option> all = new java.util.ArrayList<>(List.of(super.config()));
        // the configuration is in place from the start; only the feature is missing
        all.add(editConfigurationFilePut("etc/org.hvkit.remote.cfg", "address", ADDRESS));
        all.add(editConfigurationFilePut("etc/org.hvkit.remote.cfg", "port", port));
        all.add(editConfigurationFilePut("etc/org.hvkit.remote.cfg", "timeout.seconds", "900"));
        all.add(org.ops4j.pax.exam.CoreOptions.systemProperty(PORT).value(port));
        return all.toArray(new Option[0]);
    }

    private static int port() {
        return Integer.parseInt(System.getProperty(PORT));
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getByName(ADDRESS), port), 2000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The local addresses listening on {@code port} (IPv4 and IPv6), as the kernel lists them. */
    private static List<String> listeners(int port) throws IOException {
        List<String> out = new java.util.ArrayList<>();
        String hex = String.format(":%04X", port);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path p = Path.of(table);
            if (!Files.exists(p)) {
                continue;
            }
            for (String line : Files.readAllLines(p)) {
                String[] f = line.trim().split("\\s+");
                // local_address rem_address st: 0A is LISTEN
                if (f.length > 3 && f[1].endsWith(hex) && f[3].equals("0A")) {
                    out.add(table + " " + f[1]);
                }
            }
        }
        return out;
    }

    /** One request in the TCP provider's wire format: method name, then the argument array. */
    private static Object rawCall(String method, Object[] args) throws IOException, ClassNotFoundException {
        try (Socket s = new Socket(InetAddress.getByName(ADDRESS), port())) {
            s.setSoTimeout(30_000);
            ObjectOutputStream out = new ObjectOutputStream(s.getOutputStream());
            out.writeObject(method);
            out.writeObject(args);
            out.flush();
            try (ObjectInputStream in = new ObjectInputStream(s.getInputStream())) {
                return in.readObject();
            }
        }
    }

    private Collection<ServiceReference<Hypervisor>> facades() throws Exception {
        return bundleContext.getServiceReferences(Hypervisor.class, "(" + Hypervisor.FACADE_PROPERTY + "=true)");
    }

    @Test
    public void exportedWithTheFeatureAndNothingListensWithout() throws Exception {
        awaitHypervisor("(hypervisor.node=" + NODE_A + ")", Duration.ofSeconds(60));
        awaitShellCommands();
        assertFalse("nothing listens on " + port() + " without hvkit-remote", listening(port()));
        assertTrue(facades().isEmpty());

        // no refresh: Karaf would otherwise refresh jline (and with it this test's probe) for JNA's sake
        featuresService.installFeature("hvkit-remote", EnumSet.of(FeaturesService.Option.NoAutoRefreshBundles));
        waitFor("node-a's facade", Duration.ofSeconds(60), () -> {
            try {
                return !facades().isEmpty();
            } catch (Exception e) {
                return false;
            }
        });
        ServiceReference<Hypervisor> facade = facades().iterator().next();
        assertEquals(NODE_A, facade.getProperty(Hypervisor.NODE_PROPERTY));
        assertEquals("fake", facade.getProperty(Hypervisor.TYPE_PROPERTY));
        assertEquals(ADDRESS, facade.getProperty("aries.rsa.hostname"));
        assertEquals(Integer.toString(port()), facade.getProperty("aries.rsa.port"));
        assertEquals("900000", facade.getProperty("osgi.basic.timeout"));
        waitFor("the TCP provider listening on " + ADDRESS + ":" + port(), Duration.ofSeconds(60),
                () -> listening(port()));
        System.out.println("[RemoteIT] listening on port " + port() + ": " + listeners(port()));

        // the provider's own wire format, as another host's proxy sends it
        assertEquals(NODE_A, rawCall("node", null));
        assertEquals(List.of(), rawCall("listInstances", null));
        // a forbidden class in a request: the connection is dropped, the hypervisor never sees it
        PriorityQueue<Object> gadget = new PriorityQueue<>(2, Collections.reverseOrder());
        gadget.add("a");
        gadget.add("b");
        Map<String, Object> hvparams = new HashMap<>();
        hvparams.put("kernel_args", gadget);
        try {
            Object answer = rawCall("checkParameterSyntax", new Object[] {hvparams});
            throw new AssertionError("a forbidden class was answered: " + answer);
        } catch (IOException expected) {
            // dropped: EOF or reset
        }
        assertEquals("the endpoint still serves", NODE_A, rawCall("node", null));

        // the shell lists node-a once, as local: the facade is not a second hypervisor
        String types = execute("hv:types");
        assertEquals(types, 1, types.lines().filter(l -> l.contains(NODE_A)).count());
        assertTrue(types, types.lines().anyMatch(l -> l.contains(NODE_A) && l.contains("local")));

        featuresService.uninstallFeature("hvkit-remote", EnumSet.of(FeaturesService.Option.NoAutoRefreshBundles));
        waitFor("the port closed after feature:uninstall", Duration.ofSeconds(60), () -> !listening(port()));
        assertTrue(facades().isEmpty());
    }
}
