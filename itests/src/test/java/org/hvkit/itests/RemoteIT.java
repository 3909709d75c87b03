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
 * facade through Aries RSA's fastbin provider, which listens on the configured address and port
 * and on nothing else (/proc/net/tcp*) — a request in the provider's own wire format gets node-a's
 * answer, a request carrying a forbidden class is refused — while the shell still lists node-a
 * once, as local; once the feature is uninstalled nothing listens again. (Two Karafs on two
 * hosts: the two-host harness.)
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

    /**
     * One request in the fastbin provider's wire format, as another host's proxy sends it
     * ({@code ClientInvokerImpl.request}): a length-prefixed frame of a correlation id, the
     * endpoint id, the method's signature ({@code name,Ltype,...}) and the serialized argument
     * array; the answer frame carries the serialized error and value. Returns the value, or the
     * error the endpoint answered with. (Ids and signatures here are under 128 bytes: one-byte varints.)
     */
    private static Object rawCall(String endpoint, String signature, Object[] args) throws Exception {
        java.io.ByteArrayOutputStream frame = new java.io.ByteArrayOutputStream();
        frame.write(new byte[4]); // the size, filled in below
        frame.write(1); // correlation id 1
        for (String text : List.of(endpoint, signature)) {
            byte[] b = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            frame.write(b.length);
            frame.write(b);
        }
        try (ObjectOutputStream out = new ObjectOutputStream(frame)) {
            out.writeObject(args);
        }
        java.nio.ByteBuffer request = java.nio.ByteBuffer.wrap(frame.toByteArray());
        request.putInt(0, request.capacity());
        try (Socket s = new Socket(InetAddress.getByName(ADDRESS), port())) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(request.array());
            s.getOutputStream().flush();
            java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
            byte[] answer = new byte[in.readInt() - 4];
            in.readFully(answer);
            assertEquals("the answer's correlation id", 1, answer[0]);
            try (ObjectInputStream values = new ObjectInputStream(new java.io.ByteArrayInputStream(answer, 1,
                    answer.length - 1))) {
                Object error = values.readObject();
                Object value = values.readObject();
                return error != null ? error : value;
            }
        }
    }

    /**
     * The endpoint id and fastbin address Aries RSA gave node-a's export (its RemoteServiceAdmin,
     * through its public interfaces), or null.
     */
    private String[] exportedEndpoint() throws Exception {
        Collection<ServiceReference<?>> admins = java.util.Arrays.asList(bundleContext.getServiceReferences(
                "org.osgi.service.remoteserviceadmin.RemoteServiceAdmin", null));
        for (ServiceReference<?> admin : admins) {
            Object rsa = bundleContext.getService(admin);
            try {
                for (Object export : (Collection<?>) invoke(rsa, "RemoteServiceAdmin", "getExportedServices")) {
                    Object endpoint = invoke(export, "ExportReference", "getExportedEndpoint");
                    Map<?, ?> props = (Map<?, ?>) endpoint.getClass().getMethod("getProperties").invoke(endpoint);
                    if (NODE_A.equals(props.get(Hypervisor.NODE_PROPERTY))) {
                        return new String[] {(String) endpoint.getClass().getMethod("getId").invoke(endpoint),
                            String.valueOf(props.get("aries.fastbin.address"))};
                    }
                }
            } finally {
                bundleContext.ungetService(admin);
            }
        }
        return null;
    }

    /** Calls {@code method} of the Remote Services interface {@code simpleName} that {@code target} implements. */
    private static Object invoke(Object target, String simpleName, String method) throws Exception {
        for (Class<?> c = target.getClass(); c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) {
                if (i.getName().equals("org.osgi.service.remoteserviceadmin." + simpleName)) {
                    return i.getMethod(method).invoke(target);
                }
            }
        }
        throw new AssertionError(target + " is no " + simpleName);
    }

    private String waitForEndpoint() throws Exception {
        String[][] endpoint = new String[1][];
        waitFor("node-a's export by Aries RSA", Duration.ofSeconds(60), () -> {
            try {
                endpoint[0] = exportedEndpoint();
                return endpoint[0] != null;
            } catch (Exception e) {
                return false;
            }
        });
        assertEquals("advertised at the configured address", "tcp://" + ADDRESS + ":" + port(), endpoint[0][1]);
        return endpoint[0][0];
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
        assertEquals("aries.fastbin", facade.getProperty("service.exported.configs"));
        waitFor("the fastbin provider listening on " + ADDRESS + ":" + port(), Duration.ofSeconds(60),
                () -> listening(port()));
        List<String> listeners = listeners(port());
        System.out.println("[RemoteIT] listening on port " + port() + ": " + listeners);
        // bound to the address only: 127.0.0.1 in /proc/net/tcp (0100007F), or IPv4-mapped in tcp6
        assertEquals(listeners.toString(), 1, listeners.size());
        assertTrue("bound to " + ADDRESS + " only, not the wildcard: " + listeners,
                listeners.get(0).endsWith("0100007F:" + String.format("%04X", port())));
        String id = waitForEndpoint();

        // the provider's own wire format, as another host's proxy sends it
        assertEquals(NODE_A, rawCall(id, "node,", null));
        assertEquals(List.of(), rawCall(id, "listInstances,", null));
        // a forbidden class in a request: refused by the read (the error is the answer), the hypervisor never sees it
        PriorityQueue<Object> gadget = new PriorityQueue<>(2, Collections.reverseOrder());
        gadget.add("a");
        gadget.add("b");
        Map<String, Object> hvparams = new HashMap<>();
        hvparams.put("kernel_args", gadget);
        Object refused = rawCall(id, "checkParameterSyntax,Ljava.util.Map", new Object[] {hvparams});
        assertTrue("a forbidden class was not refused: " + refused, refused instanceof java.io.InvalidClassException);
        assertTrue(String.valueOf(refused), ((Exception) refused).getMessage().contains("REJECTED"));
        assertEquals("the endpoint still serves", NODE_A, rawCall(id, "node,", null));

        // the shell lists node-a once, as local: the facade is not a second hypervisor
        String types = execute("hv:types");
        assertEquals(types, 1, types.lines().filter(l -> l.contains(NODE_A)).count());
        assertTrue(types, types.lines().anyMatch(l -> l.contains(NODE_A) && l.contains("local")));

        featuresService.uninstallFeature("hvkit-remote", EnumSet.of(FeaturesService.Option.NoAutoRefreshBundles));
        waitFor("the port closed after feature:uninstall", Duration.ofSeconds(60), () -> !listening(port()));
        assertTrue(facades().isEmpty());
    }
}
