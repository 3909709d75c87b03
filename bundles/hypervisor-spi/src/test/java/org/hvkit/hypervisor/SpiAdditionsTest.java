package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The additions (1.2, 1.4, 2.1) that existing providers get by default. */
class SpiAdditionsTest {

    @Test
    void unresponsiveIsAppended() {
        assertEquals(List.of(InstanceState.RUNNING, InstanceState.PAUSED, InstanceState.SHUTDOWN,
                InstanceState.UNRESPONSIVE), List.of(InstanceState.values()), "1.1's constants keep their ordinals");
    }

    @Test
    void knownInstancesDefaultsToListInstances() throws Exception {
        List<String> alive = List.of("a", "b");
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getName().equals("listInstances")) {
                return alive;
            }
            if (method.isDefault()) {
                return InvocationHandler.invokeDefault(proxy, method, args);
            }
            throw new UnsupportedOperationException(method.getName());
        };
        Hypervisor hv = (Hypervisor) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Hypervisor.class}, handler);
        assertEquals(alive, hv.knownInstances());
    }

    /** A provider of type fake that implements nothing but {@code type()}: every default method as the SPI has it. */
    private static Hypervisor fakeWithDefaults() {
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getName().equals("type")) {
                return "fake";
            }
            if (method.isDefault()) {
                return InvocationHandler.invokeDefault(proxy, method, args);
            }
            throw new UnsupportedOperationException(method.getName());
        };
        return (Hypervisor) Proxy.newProxyInstance(SpiAdditionsTest.class.getClassLoader(),
                new Class<?>[] {Hypervisor.class}, handler);
    }

    /** 1.4: a provider without a balloon refuses, naming the instance and its type. */
    @Test
    void balloonDefaultsToARefusal() {
        Hypervisor hv = fakeWithDefaults();
        HypervisorException e = assertThrows(HypervisorException.class,
                () -> hv.balloonInstanceMemory(Instance.builder("web1").build(), 64));
        assertEquals("Cannot balloon the memory of instance web1: the fake hypervisor has no memory balloon",
                e.getMessage());
    }

    /** 2.1: a provider without disk hotplug refuses both, naming the instance and its type. */
    @Test
    void diskHotplugDefaultsToARefusal() {
        Hypervisor hv = fakeWithDefaults();
        Instance web1 = Instance.builder("web1").build();
        assertEquals("Cannot hot-add a disk to instance web1: the fake hypervisor has no disk hotplug",
                assertThrows(HypervisorException.class, () -> hv.hotAddDisk(web1,
                        new Disk("/srv/d.img", DiskMode.RW, 0))).getMessage());
        assertEquals("Cannot hot-remove a disk from instance web1: the fake hypervisor has no disk hotplug",
                assertThrows(HypervisorException.class, () -> hv.hotRemoveDisk(web1, "/srv/d.img")).getMessage());
    }

    @Test
    void previewDefaultsToTheArgvWithoutWarnings() throws Exception {
        CommandLinePreview preview = instance -> List.of("qemu", "-name", instance.name());
        CommandLinePreview.CommandLine line = preview.preview(Instance.builder("web1").build());
        assertEquals(List.of("qemu", "-name", "web1"), line.argv());
        assertEquals(List.of(), line.warnings());
    }

    @Test
    void commandLineIsAnImmutableSerializableValue() throws Exception {
        List<String> argv = new ArrayList<>(List.of("qemu", "-m", "128"));
        CommandLinePreview.CommandLine line = new CommandLinePreview.CommandLine(argv, List.of("vnc without password"));
        argv.add("-S");
        assertEquals(List.of("qemu", "-m", "128"), line.argv(), "a copy, not a view");
        assertThrows(UnsupportedOperationException.class, () -> line.warnings().add("x"));
        assertThrows(NullPointerException.class, () -> new CommandLinePreview.CommandLine(Arrays.asList("a", null),
                List.of()));

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(line);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(line, in.readObject());
        }
    }
}
