package org.hvkit.remote.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InvalidClassException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.aries.rsa.provider.fastbin.FastBinProvider;
import org.apache.aries.rsa.spi.Endpoint;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.ParameterCheck;
import org.hvkit.hypervisor.ParameterException;
import org.hvkit.hypervisor.ParameterSpec;
import org.hvkit.hypervisor.ParameterType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.ServiceException;

/**
 * The facade behind Aries RSA 1.16.1's real fastbin endpoint (its {@code FastBinProvider}: server,
 * client and proxy, outside OSGi): calls cross and come back as the SPI says, a call that takes
 * longer than the provider's timeout fails with it while a shorter one is answered, and the
 * allow-list stops a forbidden class in a request before the hypervisor is called, and in an
 * answer before the caller sees it.
 */
class RemoteEndpointTest {

    /** Calls that reached the local hypervisor. */
    private final List<String> calls = new CopyOnWriteArrayList<>();
    /** How long listInstances takes on node-b. */
    private volatile long slowMillis;
    private FastBinProvider provider;
    private Endpoint endpoint;
    private Hypervisor remote;
    private SerialAllowList allowList;

    /** A local hypervisor of node node-b that runs web1 and records what it is asked. */
    private Hypervisor local() {
        return (Hypervisor) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Hypervisor.class},
                (proxy, m, args) -> {
                    calls.add(m.getName());
                    switch (m.getName()) {
                        case "type": return "kvm";
                        case "node": return "node-b";
                        case "listInstances":
                            Thread.sleep(slowMillis);
                            return List.of("web1");
                        case "instanceInfo":
                            return "web1".equals(args[0]) ? new InstanceInfo("web1", 42, 512, 2, InstanceState.RUNNING, 1)
                                    : null;
                        case "parameters": return Map.of("boot_order", ParameterSpec.of("boot_order",
                                ParameterType.STRING, "disk", ParameterCheck.inSet(true, List.of("disk", "cdrom")), "b"));
                        case "stopInstance":
                            throw new HypervisorException("Failed to stop instance " + ((Instance) args[0]).name()
                                    + ": QEMU did not exit", new IOException("Broken pipe"));
                        case "checkParameterSyntax":
                            if (((Map<?, ?>) args[0]).containsKey("bad")) {
                                throw new ParameterException("bad", "Unknown parameter 'bad'");
                            }
                            return null;
                        case "verify": throw new IllegalArgumentException("a driver bug");
                        default:
                            if (m.isDefault()) {
                                return java.lang.reflect.InvocationHandler.invokeDefault(proxy, m, args);
                            }
                            throw new UnsupportedOperationException(m.getName());
                    }
                });
    }

    @BeforeEach
    void export() throws Exception {
        SerialAllowList.install();
        allowList = SerialAllowList.installed();
        assertNotNull(allowList, "this JVM has no other JVM-wide filter");
        provider = new FastBinProvider("tcp://127.0.0.1:0", "127.0.0.1", 20_000); // a free port for the test
        endpoint = export(provider, new HypervisorFacade(local(), "node-b"));
        remote = (Hypervisor) provider.importEndpoint(getClass().getClassLoader(), null,
                new Class<?>[] {Hypervisor.class}, endpoint.description());
    }

    /** Exports {@code service} as Aries RSA's core would, with the properties {@link RemoteExporter} gives a facade. */
    static Endpoint export(FastBinProvider provider, Hypervisor service) {
        Map<String, Object> props = new HashMap<>();
        props.put("objectClass", new String[] {Hypervisor.class.getName()});
        props.put(RemoteExporter.EXPORTED_INTERFACES, Hypervisor.class.getName());
        props.put(RemoteExporter.EXPORTED_CONFIGS, RemoteExporter.FASTBIN_CONFIG);
        return provider.exportService(service, null, props, new Class<?>[] {Hypervisor.class});
    }

    @AfterEach
    void close() throws IOException {
        endpoint.close();
        provider.close();
    }

    private String address() {
        return (String) endpoint.description().getProperties().get(FastBinProvider.FASTBIN_ADDRESS);
    }

    @Test
    void callsCrossAsTheSpiSays() throws Exception {
        assertEquals("tcp://127.0.0.1:" + URI.create(address()).getPort(), address(), "advertised at the configured address");
        assertEquals("node-b", remote.node());
        assertEquals(List.of("web1"), remote.listInstances());
        assertEquals(new InstanceInfo("web1", 42, 512, 2, InstanceState.RUNNING, 1), remote.instanceInfo("web1"));
        assertNull(remote.instanceInfo("other"), "not alive: null, as locally");
        assertEquals(List.of(new InstanceInfo("web1", 42, 512, 2, InstanceState.RUNNING, 1)), remote.allInstancesInfo());
        ParameterSpec spec = remote.parameters().get("boot_order");
        assertTrue(spec.check().syntax().test("cdrom"), "an inSet check works on the caller's side");

        Instance web1 = Instance.builder("web1").build();
        HypervisorException stop = assertThrows(HypervisorException.class,
                () -> remote.stopInstance(web1, false, Duration.ofSeconds(5)));
        assertEquals("Failed to stop instance web1: QEMU did not exit", stop.getMessage());
        assertEquals("java.io.IOException: Broken pipe", stop.getCause().getMessage());

        ParameterException bad = assertThrows(ParameterException.class,
                () -> remote.checkParameterSyntax(Map.of("bad", "x")));
        assertEquals("bad", bad.parameter());

        HypervisorException console = assertThrows(HypervisorException.class, () -> remote.instanceConsole(web1));
        assertTrue(console.getMessage().contains("is on node node-b"), console.getMessage());

        IllegalStateException bug = assertThrows(IllegalStateException.class, () -> remote.verify());
        assertEquals("node node-b: java.lang.IllegalArgumentException: a driver bug", bug.getMessage());
        assertTrue(!calls.contains("instanceConsole"), "the console is refused by the facade itself");
    }

    @Test
    void aForbiddenClassInARequestIsRefusedBeforeTheHypervisorIsCalled() throws Exception {
        // gadget-like: a PriorityQueue with a Comparator, which a gadget chain uses to run code while it is read
        PriorityQueue<Object> gadget = new PriorityQueue<>(2, Collections.reverseOrder());
        gadget.add("a");
        gadget.add("b");
        Map<String, Object> hvparams = new HashMap<>();
        hvparams.put("kernel_args", gadget);
        long before = allowList.rejectedCount();

        ServiceException refused = assertThrows(ServiceException.class, () -> remote.checkParameterSyntax(hvparams));
        assertInstanceOf(InvalidClassException.class, refused.getCause(), "the server's read was stopped: " + refused);
        assertTrue(refused.getMessage().contains("REJECTED"), refused.getMessage());
        assertEquals(before + 1, allowList.rejectedCount());
        assertEquals("java.util.PriorityQueue", allowList.lastRejected());
        assertTrue(!calls.contains("checkParameterSyntax"), "the hypervisor was never called: " + calls);

        // the same request with plain values is served
        remote.checkParameterSyntax(new HashMap<>(Map.of("kernel_args", "ro")));
        assertTrue(calls.contains("checkParameterSyntax"));
        assertEquals(List.of("web1"), remote.listInstances(), "the endpoint still serves");
    }

    @Test
    void aForbiddenClassInAnAnswerIsRefused() throws Exception {
        // another host's endpoint that answers with a class the caller must not read
        Hypervisor hostile = (Hypervisor) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Hypervisor.class}, (proxy, m, args) -> {
                    List<Object> answer = new ArrayList<>();
                    answer.add(new PriorityQueue<>(List.of("x")));
                    return answer;
                });
        FastBinProvider evil = new FastBinProvider("tcp://127.0.0.1:0", "127.0.0.1", 20_000);
        Endpoint evilEndpoint = export(evil, hostile);
        try {
            Hypervisor fromEvil = (Hypervisor) provider.importEndpoint(getClass().getClassLoader(), null,
                    new Class<?>[] {Hypervisor.class}, evilEndpoint.description());
            long before = allowList.rejectedCount();
            ServiceException e = assertThrows(ServiceException.class, fromEvil::listInstances);
            assertInstanceOf(InvalidClassException.class, e.getCause(), "the read was stopped: " + e.getCause());
            assertEquals(before + 1, allowList.rejectedCount());
            assertEquals("java.util.PriorityQueue", allowList.lastRejected());
        } finally {
            evilEndpoint.close();
            evil.close();
        }
    }

    @Test
    void aCallLongerThanTheTimeoutFailsAndAShorterOneIsAnswered() throws Exception {
        FastBinProvider caller = new FastBinProvider("tcp://127.0.0.1:0", "127.0.0.1", 1_000);
        try {
            Hypervisor impatient = (Hypervisor) caller.importEndpoint(getClass().getClassLoader(), null,
                    new Class<?>[] {Hypervisor.class}, endpoint.description());
            slowMillis = 600;
            assertEquals(List.of("web1"), impatient.listInstances(), "within the caller's 1 s");
            slowMillis = 2_500;
            long start = System.nanoTime();
            ServiceException late = assertThrows(ServiceException.class, impatient::listInstances);
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertInstanceOf(java.util.concurrent.TimeoutException.class, late.getCause(), late.toString());
            assertTrue(tookMillis >= 1_000 && tookMillis < 2_500, "gave up after the timeout: " + tookMillis + " ms");
            // this endpoint's own caller (20 s) waits for the same call
            assertEquals(List.of("web1"), remote.listInstances());
        } finally {
            slowMillis = 0;
            caller.close();
        }
    }

    @Test
    void otherStreamsOfTheJvmAreNotAffected() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(new PriorityQueue<>(List.of("x")));
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertInstanceOf(PriorityQueue.class, in.readObject());
        }
        assertSame(allowList, java.io.ObjectInputFilter.Config.getSerialFilter());
    }

    @Test
    void theFacadeHasExactlyTheInterfacesMethods() throws Exception {
        for (Method m : Hypervisor.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            // a default method not overridden would run on the facade instead of on the hypervisor
            Method own = HypervisorFacade.class.getDeclaredMethod(m.getName(), m.getParameterTypes());
            assertEquals(HypervisorFacade.class, own.getDeclaringClass(), m.getName());
        }
        for (Method m : HypervisorFacade.class.getMethods()) {
            boolean spi = isSpi(m);
            boolean object = m.getDeclaringClass() == Object.class || m.getName().equals("toString");
            assertTrue(spi || object, "reachable by name over the network but not Hypervisor's: " + m);
        }
        assertTrue(Modifier.isFinal(HypervisorFacade.class.getModifiers()));
    }

    private static boolean isSpi(Method m) {
        try {
            Hypervisor.class.getMethod(m.getName(), m.getParameterTypes());
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }
}
