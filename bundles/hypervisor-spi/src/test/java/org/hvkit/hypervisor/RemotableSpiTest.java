package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * SPI 2.0 (issue #16): everything a remote caller of {@link Hypervisor} sends or gets
 * serializes. The types are found from the interface's signatures by reflection (and from the
 * components of the records found), so a type added to the interface without a sample here, or
 * without being {@link Serializable}, fails this test.
 */
class RemotableSpiTest {

    /** The one method whose answer stays on its node (see {@link Hypervisor#instanceConsole}). */
    private static final Set<String> LOCAL_ONLY = Set.of("instanceConsole");

    /** JDK types a remote signature may use: values the JDK serializes itself. */
    private static final Set<Class<?>> JDK_VALUES = Set.of(String.class, Object.class, List.class, Map.class,
            Duration.class, Instant.class, boolean.class, int.class, long.class, double.class, void.class,
            Boolean.class, Integer.class, Long.class, Double.class);

    /** The SPI types reachable from the remote signatures, in discovery order. */
    static Set<Class<?>> remoteTypes() {
        Set<Class<?>> out = new LinkedHashSet<>();
        for (Method m : Hypervisor.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || LOCAL_ONLY.contains(m.getName())) {
                continue;
            }
            collect(m.getGenericReturnType(), out, m.getName());
            for (Type p : m.getGenericParameterTypes()) {
                collect(p, out, m.getName());
            }
            for (Type e : m.getGenericExceptionTypes()) {
                collect(e, out, m.getName());
            }
        }
        return out;
    }

    private static void collect(Type t, Set<Class<?>> out, String where) {
        if (t instanceof ParameterizedType p) {
            collect(p.getRawType(), out, where);
            for (Type a : p.getActualTypeArguments()) {
                collect(a, out, where);
            }
        } else if (t instanceof WildcardType w) {
            for (Type b : w.getUpperBounds()) {
                collect(b, out, where);
            }
        } else if (t instanceof GenericArrayType a) {
            collect(a.getGenericComponentType(), out, where);
        } else if (t instanceof TypeVariable<?> v) {
            fail(where + ": a type variable " + v + " cannot be checked for the wire");
        } else if (t instanceof Class<?> c) {
            if (c.isArray()) {
                collect(c.getComponentType(), out, where);
            } else if (c.getName().startsWith("org.hvkit.")) {
                // a record written in another form (ParameterCheck's Wire) sends no components
                if (out.add(c) && c.isRecord() && !hasWriteReplace(c)) {
                    for (RecordComponent rc : c.getRecordComponents()) {
                        collect(rc.getGenericType(), out, c.getSimpleName() + "." + rc.getName());
                    }
                }
            } else if (!JDK_VALUES.contains(c)) {
                fail(where + " uses " + c.getName() + ", which is not among the JDK values a remote caller may get: "
                        + "no Optional, no stream (SPI 2.0)");
            }
        }
    }

    private static boolean hasWriteReplace(Class<?> c) {
        try {
            c.getDeclaredMethod("writeReplace");
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /** One or more values of every type, as different as the type allows. */
    private static Map<Class<?>, List<Object>> samples() throws Exception {
        Map<Class<?>, List<Object>> s = new LinkedHashMap<>();
        Nic nic = new Nic("aa:00:00:12:34:56", "192.0.2.7", NicMode.ROUTED, "100");
        Disk disk = new Disk("/dev/vg/disk0", DiskMode.RO, 1024);
        Instance full = Instance.builder("web1.example.org").primaryNode("node-b").hypervisor("kvm")
                .hvparam("kernel_path", "/boot/vmlinuz").hvparam("vnc_bind_address", "").hvparam("acpi", true)
                .hvparam("migration_port", 8102).hvparam("spice_port", 5000L).memory(512).vcpus(2)
                .nic(nic).nic(new Nic("aa:00:00:12:34:57", null, NicMode.BRIDGED, "")).disk(disk)
                .diskTemplate("plain").networkPort(11000).tags(List.of("a", "b")).uuid(
                        "0b5c2b7e-7a3c-4c1b-9e61-1f3c1a3f2b10").build();
        s.put(Instance.class, List.of(full, Instance.builder("bare").build()));
        s.put(BackendParams.class, List.of(BackendParams.DEFAULTS, new BackendParams(4096, 8)));
        s.put(Nic.class, List.of(nic));
        s.put(Disk.class, List.of(disk));
        s.put(InstanceInfo.class, List.of(new InstanceInfo("web1", 4242, 512, 2, InstanceState.UNRESPONSIVE, 12.5)));
        s.put(MigrationInfo.class, List.of(new MigrationInfo("{\"opaque\":true}"), new MigrationInfo("x")
                .withSourceStatus(new MigrationStatus(MigrationStatus.State.ACTIVE, 10, 0, 10).completed(37, Instant.now()))));
        s.put(MigrationStatus.class, List.of(new MigrationStatus(MigrationStatus.State.ACTIVE, 1, 2, 3),
                new MigrationStatus(MigrationStatus.State.ACTIVE, 10, 0, 10).completed(37, Instant.now())));
        s.put(NodeInfo.class, List.of(new NodeInfo(8192, 4096, 4096, 8, 1, 2)));
        s.put(ParameterSpec.class, List.of(
                ParameterSpec.of("kernel_path", ParameterType.STRING, "", ParameterCheck.OPT_FILE_CHECK, "kernel"),
                ParameterSpec.global("migration_port", ParameterType.INT, 8102, ParameterCheck.NET_PORT_CHECK,
                        "port"),
                ParameterSpec.of("boot_order", ParameterType.STRING, "disk",
                        ParameterCheck.inSet(true, List.of("cdrom", "disk", "network")), "boot"),
                ParameterSpec.of("acpi", ParameterType.BOOL, true, ParameterCheck.NO_CHECK, "acpi")));
        s.put(ParameterCheck.class, List.of(ParameterCheck.OPT_MULTI_CPU_MASK_CHECK,
                ParameterCheck.inSet(false, List.of(1, 2L, "x"))));
        s.put(HypervisorException.class, List.of(new HypervisorException("Failed to start instance web1: no disk"),
                new HypervisorException("outer", new IOException("inner", new IllegalStateException("deep")))));
        s.put(ParameterException.class, List.of(new ParameterException("nics[0].mac", "bad mac")));
        return s;
    }

    @Test
    void everyRemoteTypeIsSerializableWithAVersion() {
        Set<Class<?>> types = remoteTypes();
        assertTrue(types.containsAll(List.of(Instance.class, InstanceInfo.class, ParameterSpec.class,
                ParameterCheck.class, NodeInfo.class, MigrationStatus.class, HypervisorException.class)),
                "the reflection walk finds the model: " + types);
        assertFalse(types.contains(InstanceConsole.class), "the console is local only");
        for (Class<?> c : types) {
            assertTrue(Serializable.class.isAssignableFrom(c), c.getName() + " must be Serializable (SPI 2.0)");
            if (!c.isEnum()) {
                assertDeclaresVersion(c);
            }
        }
    }

    private static void assertDeclaresVersion(Class<?> c) {
        try {
            Field f = c.getDeclaredField("serialVersionUID");
            assertTrue(Modifier.isStatic(f.getModifiers()) && f.getType() == long.class, c + ".serialVersionUID");
        } catch (NoSuchFieldException e) {
            fail(c.getName() + " declares no serialVersionUID");
        }
    }

    @Test
    void everyRemoteTypeRoundTrips() throws Exception {
        Map<Class<?>, List<Object>> samples = samples();
        for (Class<?> c : remoteTypes()) {
            List<Object> values = c.isEnum() ? List.of(c.getEnumConstants()) : samples.get(c);
            assertNotNull(values, "no sample of " + c.getName() + " (a new type in Hypervisor's signatures:"
                    + " add samples here)");
            for (Object v : values) {
                Object back = roundTrip(v);
                if (v instanceof Throwable t) {
                    assertSameChain(t, (Throwable) back);
                } else {
                    assertEquals(v, back, c.getSimpleName());
                }
            }
        }
    }

    private static void assertSameChain(Throwable sent, Throwable got) {
        assertEquals(sent.getClass(), got.getClass());
        assertEquals(sent.getMessage(), got.getMessage());
        Throwable s = sent.getCause();
        Throwable g = got.getCause();
        while (s != null) {
            assertNotNull(g, "cause of " + sent);
            assertTrue(g instanceof HypervisorException, "a cause crosses as a HypervisorException: " + g);
            assertEquals(s instanceof HypervisorException ? s.getMessage() : s.getClass().getName() + ": "
                    + s.getMessage(), g.getMessage());
            s = s.getCause();
            g = g.getCause();
        }
        assertNull(g);
    }

    @Test
    void checksCrossAsDataNamedOnesAsThemselves() throws Exception {
        assertSame(ParameterCheck.REQ_DIR_CHECK, roundTrip(ParameterCheck.REQ_DIR_CHECK));
        ParameterCheck in = (ParameterCheck) roundTrip(ParameterCheck.inSet(true, List.of("cdrom", "disk")));
        assertTrue(in.syntax().test("disk"));
        assertFalse(in.syntax().test("floppy"));
        assertEquals(ParameterCheck.inSet(true, List.of("cdrom", "disk")), in);

        ParameterCheck own = ParameterCheck.NO_CHECK.withSyntax("VGA_CHECK", v -> true, "must be a VGA spec");
        ParameterCheck back = (ParameterCheck) roundTrip(own);
        assertEquals("VGA_CHECK", back.label());
        assertEquals("must be a VGA spec", back.syntaxText());
        assertNull(back.node());
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> back.syntax().test("std"));
        assertTrue(e.getMessage().contains("VGA_CHECK"), e.getMessage());
    }

    @Test
    void aProvidersOwnExceptionCrossesAsAPlainOne() throws Exception {
        class OwnException extends HypervisorException {
            private static final long serialVersionUID = 1L;

            OwnException(String message) {
                super(message);
            }
        }
        Object back = roundTrip(new OwnException("QMP said no"));
        assertEquals(HypervisorException.class, back.getClass());
        assertEquals("QMP said no", ((Throwable) back).getMessage());
        ParameterException p = (ParameterException) roundTrip(
                new ParameterException("kernel_path", "not a file").initCause(new IOException("gone")));
        assertEquals("kernel_path", p.parameter());
        assertEquals("java.io.IOException: gone", p.getCause().getMessage());
    }

    @Test
    void aCauseCycleIsCut() throws Exception {
        IOException a = new IOException("a");
        IllegalStateException b = new IllegalStateException("b", a);
        a.initCause(b);
        Throwable back = (Throwable) roundTrip(new HypervisorException("top", a));
        int depth = 0;
        for (Throwable t = back.getCause(); t != null; t = t.getCause()) {
            depth++;
        }
        assertTrue(depth > 0 && depth <= 16, "depth " + depth);
    }

    @Test
    void defaultsOfTheInterfaceStayLocalInBehaviour() throws Exception {
        List<String> seen = new ArrayList<>();
        Hypervisor hv = (Hypervisor) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Hypervisor.class}, (proxy, m, args) -> {
                    if (m.getName().equals("listInstances")) {
                        return List.of("a", "gone");
                    }
                    if (m.getName().equals("instanceInfo")) {
                        seen.add((String) args[0]);
                        return "a".equals(args[0]) ? new InstanceInfo("a", 1, 1, 1, InstanceState.RUNNING, 0) : null;
                    }
                    return java.lang.reflect.InvocationHandler.invokeDefault(proxy, m, args);
                });
        List<InstanceInfo> all = hv.allInstancesInfo();
        assertEquals(List.of("a", "gone"), seen);
        assertEquals(1, all.size(), "an instance that vanished (null) is skipped");
        assertInstanceOf(Serializable.class, all);
    }

    static Object roundTrip(Object value) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return in.readObject();
        }
    }
}
