package org.hvkit.kvm.internal.argv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.kvm.internal.caps.HelpFixtures;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.runtime.RuntimePaths;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every scenario ({@code src/test/resources/golden/<scenario>/scenario.json}, see {@link Scenario})
 * rendered for every QEMU generation, compared with its golden file
 * ({@code src/test/resources/golden/<scenario>/<qemu>.args}, one argv element per line,
 * warnings as {@code # warning:} lines, a refused scenario as {@code ERROR:}); one test per
 * pair, named {@code <scenario> on <qemu>}. Run with
 * {@code -Dhvkit.golden.update=true} to rewrite the files after an intended change; review
 * the diff like code.
 */
class GoldenArgvTest {

    static final List<String> QEMUS = List.of("kvm-0.9.1", "kvm-0.12.5", "qemu-kvm-1.0", "qemu-7.2.22", "qemu-8.2.0",
            "qemu-9.1.0");
    static final RuntimePaths PATHS = new RuntimePaths(Path.of("/run/hvkit/kvm-hypervisor"));
    static final Path KVM = Path.of("/usr/bin/kvm");
    /** A second QEMU binary the golden node's operator allows as an instance's kvm_path (kvm.allowed.paths). */
    static final Path OTHER_KVM = Path.of("/opt/qemu/bin/qemu-system-x86_64");
    /** The interface the SPICE interface scenarios name (RealQemuLaunchTest creates it with these addresses). */
    static final String SPICE_INTERFACE = "hvspice0";
    /** The golden node's SPICE certificate files, and {@link #SPICE_INTERFACE} as its one interface with addresses. */
    static final SpiceNode SPICE = new SpiceNode(Path.of("/etc/hvkit/spice.pem"), Path.of("/etc/hvkit/spice-ca.pem"),
            name -> SPICE_INTERFACE.equals(name) ? GoldenArgvTest.SPICE_ADDRESSES : List.of());
    static final Map<String, String> GOLDEN_PLACES = Map.ofEntries(
            Map.entry("@DISK0@", "/run/hvkit/instance-disks/inst1.example.com:0"),
            Map.entry("@DISK1@", "/run/hvkit/instance-disks/inst1.example.com:1"),
            Map.entry("@KERNEL@", "/boot/vmlinuz-hvkit"),
            Map.entry("@INITRD@", "/boot/initrd-hvkit"),
            Map.entry("@ISO@", "/srv/iso/debian.iso"),
            Map.entry("@ISO2@", "/srv/iso/drivers.iso"),
            Map.entry("@FLOPPY@", "/srv/floppy/boot.img"),
            Map.entry("@VNCDIR@", "/run/hvkit/vnc"),
            Map.entry("@X509@", "/etc/hvkit/vnc-x509"),
            Map.entry("@PWFILE@", "/etc/hvkit/vnc-password"),
            Map.entry("@OTHERKVM@", OTHER_KVM.toString()),
            Map.entry("@MEMDIR@", "/dev/hugepages"),
            Map.entry("@CDISK@", "/srv/disks/a.img,file=/etc/shadow"),
            Map.entry("@CISO@", "/srv/iso/a.iso,file=/etc/shadow"),
            Map.entry("@CVNCDIR@", "/run/hvkit/vnc,websocket=on"),
            Map.entry("@CX509@", "/etc/hvkit/x509,dir=/root"),
            Map.entry("@CKERNEL@", "/boot/vmlinuz,1"),
            Map.entry("@CINITRD@", "/boot/initrd,1"),
            Map.entry("@CMEMDIR@", "/dev/hugepages,x"));

    private static final List<java.net.InetAddress> SPICE_ADDRESSES;

    static {
        try {
            SPICE_ADDRESSES = List.of(java.net.InetAddress.getByName("192.0.2.1"),
                    java.net.InetAddress.getByName("2001:db8::1"));
        } catch (java.net.UnknownHostException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static UnaryOperator<String> places(Map<String, String> map) {
        return s -> map.getOrDefault(s, s);
    }

    /** The lines a scenario renders to for one QEMU's capabilities. */
    static List<String> render(Scenario s, QemuCapabilities caps, KvmArgvBuilder builder, UnaryOperator<String> places)
            throws Exception {
        Instance instance = s.instance(places);
        Map<String, Object> hv = Scenario.filledHvparams(instance);
        KvmParameters.checkSyntax(hv);
        List<String> lines = new ArrayList<>();
        try {
            KvmArgvBuilder.Generated g = builder.generate(instance, hv, caps, s.savedLayout());
            lines.addAll(builder.renderForNode(g.runtime(), hv, caps, s.executionContext(instance, hv, caps)));
            g.warnings().forEach(w -> lines.add("# warning: " + w));
        } catch (HypervisorException e) {
            lines.add("ERROR: " + e.getMessage());
        }
        return lines;
    }

    /** One test per scenario and QEMU generation, named {@code <scenario> on <qemu>}, its source the golden file. */
    @TestFactory
    Stream<DynamicTest> everyScenarioOnEveryQemu() {
        boolean update = Boolean.getBoolean("hvkit.golden.update");
        KvmArgvBuilder builder = new KvmArgvBuilder(KVM, java.util.Set.of(OTHER_KVM), PATHS, SPICE);
        return Scenario.all().stream().flatMap(s -> QEMUS.stream().map(qemu -> {
            Path file = s.file().resolveSibling(qemu + ".args");
            return DynamicTest.dynamicTest(s.name() + " on " + qemu, file.toUri(),
                    () -> compare(render(s, HelpFixtures.capabilities(qemu), builder, places(GOLDEN_PLACES)), file,
                            update));
        }));
    }

    private static void compare(List<String> actual, Path file, boolean update) throws IOException {
        if (update) {
            Files.writeString(file, String.join("\n", actual) + "\n", StandardCharsets.UTF_8);
            return;
        }
        List<String> expected = read(file);
        if (!expected.equals(actual)) {
            fail(file + " differs (rerun with -Dhvkit.golden.update=true if intended):\n" + diff(expected, actual));
        }
    }

    /** A scenario directory holds its scenario and one output per QEMU generation, nothing stale. */
    @Test
    void everyScenarioDirectoryHoldsItsScenarioAndOneFilePerQemu() throws IOException {
        Assumptions.assumeFalse(Boolean.getBoolean("hvkit.golden.update"), "the update writes the files");
        List<String> wanted = new ArrayList<>(List.of(Scenario.FILE));
        QEMUS.forEach(q -> wanted.add(q + ".args"));
        Collections.sort(wanted);
        List<String> problems = new ArrayList<>();
        try (Stream<Path> entries = Files.list(Scenario.root())) {
            for (Path p : (Iterable<Path>) entries.sorted()::iterator) {
                if (!Files.isDirectory(p)) {
                    if (!p.getFileName().toString().equals("README.md")) {
                        problems.add(p + ": not a scenario directory");
                    }
                    continue;
                }
                try (Stream<Path> files = Files.list(p)) {
                    List<String> have = files.map(f -> f.getFileName().toString()).sorted().toList();
                    if (!have.equals(wanted)) {
                        problems.add(p + ": has " + have);
                    }
                }
            }
        }
        assertEquals(List.of(), problems, "each directory must hold exactly " + wanted);
        assertEquals(Scenario.all().size() * QEMUS.size(), everyScenarioOnEveryQemu().count());
    }

    private static List<String> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of("(missing golden file " + file + ")");
        }
        return Files.readAllLines(file, StandardCharsets.UTF_8);
    }

    /** A minimal line diff: the first differing position and both sides from there. */
    static String diff(List<String> expected, List<String> actual) {
        int i = 0;
        while (i < expected.size() && i < actual.size() && expected.get(i).equals(actual.get(i))) {
            i++;
        }
        String exp = expected.subList(i, Math.min(expected.size(), i + 6)).stream().map(l -> "  - " + l)
                .collect(Collectors.joining("\n"));
        String act = actual.subList(i, Math.min(actual.size(), i + 6)).stream().map(l -> "  + " + l)
                .collect(Collectors.joining("\n"));
        return "  at line " + (i + 1) + ":\n" + exp + "\n" + act;
    }
}
