package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.ParameterException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An instance's {@code kvm_path} other than the node's binary (Ganeti 3.0 allows it): a binary
 * the operator listed in {@code kvm.allowed.paths} runs, probed and cached under its own path;
 * any other is refused before anything is created. Real QEMU 7.2 behind a symbolic link.
 */
class KvmPathTest {

    @TempDir
    Path tmp;
    Path root;
    Path allowed;
    Path refused;

    @BeforeEach
    void setUp() throws Exception {
        KvmTestNode.requireRealQemu();
        root = tmp.resolve("kvm");
        Path bin = Files.createDirectories(tmp.resolve("opt/qemu/bin"));
        allowed = Files.createSymbolicLink(bin.resolve("qemu-allowed"), KvmTestNode.QEMU.toRealPath());
        refused = Files.createSymbolicLink(bin.resolve("qemu-refused"), KvmTestNode.QEMU.toRealPath());
    }

    private KvmHypervisor node(Set<Path> others) {
        return KvmTestNode.node(KvmTestNode.settings("node-a", root, KvmTestNode.QEMU, false, null)
                .allowingKvmPaths(others));
    }

    private static List<String> cmdline(long pid) throws Exception {
        String raw = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8);
        return List.of(raw.split("\0"));
    }

    /** The capability cache files under root.dir/caps, by the binary each was probed for. */
    private List<String> cachedBinaries() throws Exception {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(root.resolve("caps"))) {
            for (Path f : (Iterable<Path>) s.filter(p -> p.toString().endsWith(".json")).sorted()::iterator) {
                out.add(new ObjectMapper().readTree(f.toFile()).path("binary").asText());
            }
        }
        return out;
    }

    @Test
    void anAllowedBinaryRunsTheInstanceAndIsProbedUnderItsOwnPath() throws Exception {
        KvmHypervisor kvm = node(Set.of(allowed));
        Instance guest = KvmTestNode.guest("kp1", null, null).memory(64).hvparam("acpi", false)
                .hvparam("kvm_path", allowed.toString())
                .build();
        try {
            kvm.validateParameters(KvmTestNode.core(kvm).filled(guest));
            assertEquals(allowed.toString(), kvm.previewCommand(guest).get(0));
            kvm.startInstance(guest, true);
            long pid = Optional.ofNullable(kvm.instanceInfo("kp1")).orElseThrow().pid();
            assertEquals(allowed.toString(), cmdline(pid).get(0), "QEMU was run as the instance's kvm_path");
            JsonNode status = KvmTestNode.qmp(kvm, "kp1", "query-status");
            assertEquals("prelaunch", status.path("status").asText(), status.toString());
            assertTrue(cachedBinaries().contains(allowed.toString()),
                    "its capabilities are cached for its own path: " + cachedBinaries());

            // a reboot runs the saved runtime's binary again
            kvm.rebootInstance(kvm.runningInstance("kp1"));
            long rebooted = Optional.ofNullable(kvm.instanceInfo("kp1")).orElseThrow().pid();
            assertTrue(rebooted != pid, "a new QEMU");
            assertEquals(allowed.toString(), cmdline(rebooted).get(0));

            // the operator takes it off the list: the saved runtime no longer reboots, and the guest keeps running
            kvm.close();
            kvm = node(Set.of());
            KvmHypervisor narrowed = kvm;
            String refused = " is not a QEMU binary this node allows: the node's kvm.path " + KvmTestNode.QEMU
                    + " (kvm.allowed.paths is empty); leave kvm_path empty or have the operator add the binary to"
                    + " kvm.allowed.paths";
            // the instance's parameters are checked as for a start (they decide the security model) …
            HypervisorException e = assertThrows(HypervisorException.class,
                    () -> narrowed.rebootInstance(narrowed.runningInstance("kp1")));
            assertEquals("kvm_path " + allowed + refused, e.getMessage());
            // … and without the parameter, the binary the saved runtime runs is checked too
            e = assertThrows(HypervisorException.class,
                    () -> narrowed.rebootInstance(org.hvkit.hypervisor.Instance.builder("kp1").build()));
            assertEquals("The saved runtime's QEMU binary " + allowed + refused, e.getMessage());
            assertEquals(rebooted, Optional.ofNullable(kvm.instanceInfo("kp1")).orElseThrow().pid(),
                    "the refused reboot did not stop the guest");
        } finally {
            kvm.stopInstanceByName("kp1");
            if (kvm.knownInstances().contains("kp1")) {
                kvm.cleanupInstance("kp1");
            }
            kvm.close();
        }
    }

    @Test
    void aBinaryTheOperatorDidNotAllowIsRefusedNamingTheParameter() throws Exception {
        KvmHypervisor kvm = node(Set.of(allowed));
        Instance guest = KvmTestNode.guest("kp2", null, null).memory(64).hvparam("kvm_path", refused.toString())
                .build();
        String why = "kvm_path " + refused + " is not a QEMU binary this node allows: the node's kvm.path "
                + KvmTestNode.QEMU + " or one of kvm.allowed.paths [" + allowed + "]; leave kvm_path empty or have"
                + " the operator add the binary to kvm.allowed.paths";
        try {
            ParameterException p = assertThrows(ParameterException.class,
                    () -> kvm.validateParameters(KvmTestNode.core(kvm).filled(guest)));
            assertEquals("kvm_path", p.parameter());
            assertTrue(p.getMessage().contains(why), p.getMessage());
            HypervisorException e = assertThrows(HypervisorException.class, () -> kvm.startInstance(guest, true));
            assertTrue(e.getMessage().contains(why), e.getMessage());
            assertEquals(List.of(), kvm.listInstances());
            assertEquals(List.of(), KvmTestNode.instanceFiles(root), "the refused start left nothing");
            assertTrue(cachedBinaries().stream().noneMatch(b -> b.equals(refused.toString())),
                    "the refused binary was never run to probe it: " + cachedBinaries());
        } finally {
            kvm.stopInstanceByName("kp2");
            kvm.close();
        }
    }

    @Test
    void theAllowedListIsCheckedWhenTheNodeIsConfigured() {
        assertEquals(Set.of(Path.of("/opt/a"), Path.of("/opt/b")),
                KvmSettings.allowedPaths(" /opt/a, /usr/bin/kvm /opt/b ,", Path.of("/usr/bin/kvm")));
        assertEquals(Set.of(), KvmSettings.allowedPaths(null, Path.of("/usr/bin/kvm")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KvmSettings.allowedPaths("/opt/a,bin/qemu", Path.of("/usr/bin/kvm")));
        assertEquals(KvmNode.PID + ": kvm.allowed.paths must be an absolute normalized path, got 'bin/qemu'",
                e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> KvmSettings.allowedPaths("/opt/../etc/qemu", Path.of("/usr/bin/kvm")));
    }
}
