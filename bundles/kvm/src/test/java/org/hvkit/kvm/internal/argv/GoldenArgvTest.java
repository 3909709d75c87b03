package org.hvkit.kvm.internal.argv;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.kvm.internal.caps.HelpFixtures;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.runtime.RuntimePaths;
import org.junit.jupiter.api.Test;

/**
 * Every scenario rendered for every QEMU generation, compared with its golden file
 * ({@code src/test/resources/golden/<scenario>/<qemu>.args}, one argv element per line,
 * warnings as {@code # warning:} lines, a refused scenario as {@code ERROR:}). Run with
 * {@code -Dhvkit.golden.update=true} to rewrite the files after an intended change; review
 * the diff like code.
 */
class GoldenArgvTest {

    static final List<String> QEMUS = List.of("kvm-0.9.1", "kvm-0.12.5", "qemu-kvm-1.0", "qemu-7.2.22", "qemu-9.1.0");
    static final RuntimePaths PATHS = new RuntimePaths(Path.of("/run/hvkit/kvm-hypervisor"));
    static final Map<String, String> GOLDEN_PLACES = Map.ofEntries(
            Map.entry("@DISK0@", "/run/hvkit/instance-disks/inst1.example.com:0"),
            Map.entry("@DISK1@", "/run/hvkit/instance-disks/inst1.example.com:1"),
            Map.entry("@KERNEL@", "/boot/vmlinuz-hvkit"),
            Map.entry("@INITRD@", "/boot/initrd-hvkit"),
            Map.entry("@ISO@", "/srv/iso/debian.iso"),
            Map.entry("@VNCDIR@", "/run/hvkit/vnc"),
            Map.entry("@X509@", "/etc/hvkit/vnc-x509"),
            Map.entry("@PWFILE@", "/etc/hvkit/vnc-password"),
            Map.entry("@MEMDIR@", "/dev/hugepages"),
            Map.entry("@CDISK@", "/srv/disks/a.img,file=/etc/shadow"),
            Map.entry("@CISO@", "/srv/iso/a.iso,file=/etc/shadow"),
            Map.entry("@CVNCDIR@", "/run/hvkit/vnc,websocket=on"),
            Map.entry("@CX509@", "/etc/hvkit/x509,dir=/root"),
            Map.entry("@CKERNEL@", "/boot/vmlinuz,1"),
            Map.entry("@CINITRD@", "/boot/initrd,1"),
            Map.entry("@CMEMDIR@", "/dev/hugepages,x"));

    static UnaryOperator<String> places(Map<String, String> map) {
        return s -> map.getOrDefault(s, s);
    }

    /** The lines a scenario renders to for one QEMU's capabilities. */
    static List<String> render(Scenario s, QemuCapabilities caps, KvmArgvBuilder builder, UnaryOperator<String> places)
            throws Exception {
        Map<String, Object> hv = s.filledHvparams(places);
        KvmParameters.checkSyntax(hv);
        Instance instance = s.resolvedInstance(places);
        List<String> lines = new ArrayList<>();
        try {
            KvmArgvBuilder.Generated g = builder.generate(instance, hv, caps);
            lines.addAll(builder.renderForNode(g.runtime(), hv, caps, ExecutionContext.layout(instance.nics().size(),
                    KvmParameters.bool(hv, KvmParameters.SERIAL_CONSOLE), caps, s.poolUser(), s.incoming(),
                    s.startPaused())));
            g.warnings().forEach(w -> lines.add("# warning: " + w));
        } catch (HypervisorException e) {
            lines.add("ERROR: " + e.getMessage());
        }
        return lines;
    }

    @Test
    void everyScenarioForEveryQemu() throws Exception {
        boolean update = Boolean.getBoolean("hvkit.golden.update");
        Path goldenRoot = Path.of(System.getProperty("basedir", "."), "src/test/resources/golden");
        KvmArgvBuilder builder = new KvmArgvBuilder(Path.of("/usr/bin/kvm"), PATHS);
        List<String> failures = new ArrayList<>();
        int compared = 0;
        for (Scenario s : Scenario.all()) {
            for (String qemu : QEMUS) {
                QemuCapabilities caps = HelpFixtures.capabilities(qemu);
                List<String> actual = render(s, caps, builder, places(GOLDEN_PLACES));
                Path file = goldenRoot.resolve(s.name()).resolve(qemu + ".args");
                if (update) {
                    Files.createDirectories(file.getParent());
                    Files.writeString(file, String.join("\n", actual) + "\n", StandardCharsets.UTF_8);
                    continue;
                }
                List<String> expected = read(file);
                compared++;
                if (!expected.equals(actual)) {
                    failures.add(s.name() + " on " + qemu + ":\n" + diff(expected, actual));
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " golden argv file(s) differ (rerun with -Dhvkit.golden.update=true if intended):\n"
                    + String.join("\n", failures));
        }
        assertTrue(update || compared == Scenario.all().size() * QEMUS.size());
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
