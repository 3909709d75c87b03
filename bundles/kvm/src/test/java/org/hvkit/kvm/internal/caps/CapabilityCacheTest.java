package org.hvkit.kvm.internal.caps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.NativeTests;
import org.hvkit.netdev.ProcessSpawner;
import org.hvkit.netdev.SpawnRequest;
import org.hvkit.netdev.SpawnResult;
import org.hvkit.netdev.internal.PosixSpawner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Capability probing of the real QEMU here: --help plus QMP, learnt once, kept on disk. */
class CapabilityCacheTest {

    private static final Path QEMU = NativeTests.QEMU;

    /** The real spawner, counting what it runs. */
    private static final class Counting implements ProcessSpawner {
        final List<List<String>> runs = new ArrayList<>();
        private final ProcessSpawner real = new PosixSpawner();

        @Override
        public SpawnResult run(SpawnRequest request, Duration timeout) throws NativeException {
            runs.add(request.argv());
            return real.run(request, timeout);
        }
    }

    @TempDir
    Path dir;

    @BeforeEach
    void needsQemu() {
        NativeTests.require("capability probing of the real QEMU", NativeTests.whyNoQemu());
    }

    @Test
    void probedOnceThenReadFromDiskByTheNextBundle() throws Exception {
        Counting first = new Counting();
        QemuCapabilities caps = new CapabilityCache(first, dir).of(QEMU);
        assertEquals(2, first.runs.size(), "--help, then the QMP probe: " + first.runs);
        assertTrue(first.runs.get(1).containsAll(List.of("-machine", "none", "-S")), first.runs.get(1).toString());
        QmpFacts facts = caps.qmp();
        assertNotNull(facts, "QEMU " + caps.versionText() + " has QMP: it was asked");
        assertTrue(facts.defaultMachine().startsWith("pc-i440fx-"), facts.defaultMachine());
        assertEquals(facts.defaultMachine(), facts.machines().get("pc"));
        assertTrue(facts.devices().containsAll(List.of("virtio-net-pci", "e1000", "usb-tablet")), "devices");
        assertTrue(facts.commands().containsAll(List.of("migrate", "device_add", "netdev_add", "getfd")), "commands");
        assertTrue(facts.aioModes().containsAll(List.of("threads", "native")), "aio modes from query-qmp-schema: "
                + facts.aioModes());
        // why --help is still read: QMP lists no argument-less options
        assertFalse(facts.hasOption("no-acpi") || facts.hasOption("runas") || facts.hasOption("enable-kvm")
                || facts.hasOption("daemonize"), facts.options().keySet().toString());
        assertEquals(1, leftIn(dir).size(), "one cache file, no probe socket or pid file: " + leftIn(dir));
        assertEquals(List.of(), probesRunning(), "the probe QEMU is gone");

        Counting restarted = new Counting();
        QemuCapabilities again = new CapabilityCache(restarted, dir).of(QEMU);
        assertEquals(List.of(), restarted.runs, "a restarted bundle does not run the binary");
        assertEquals(caps, again);
    }

    @Test
    void qmpAndHelpAgreeOnEveryFeatureOfThisQemu() throws Exception {
        Counting c = new Counting();
        QemuCapabilities probed = new CapabilityCache(c, dir).of(QEMU);
        QemuCapabilities helpOnly = new CapabilityCache(new PosixSpawner()).of(QEMU);
        assertEquals(helpOnly.features(), probed.features(), "what QMP tells must match what --help told");
        assertEquals(List.of(helpOnly.major(), helpOnly.minor(), helpOnly.micro()),
                List.of(probed.major(), probed.minor(), probed.micro()));
        assertEquals(null, helpOnly.qmp());
    }

    @Test
    void aDamagedOrStaleCacheFileIsProbedAgainAndRewritten() throws Exception {
        new CapabilityCache(new PosixSpawner(), dir).of(QEMU);
        Path file = leftIn(dir).get(0);
        String good = Files.readString(file);
        for (String bad : List.of("", "{", "[1,2]", good.replaceFirst("\"format\":\\d+", "\"format\":99"),
                // a file of format 1 (before the aio modes were asked) is probed again
                good.replaceFirst("\"format\":\\d+", "\"format\":1"),
                good.replaceFirst("\"size\":\\d+", "\"size\":1"), good.replace("\"defaultMachine\":\"pc-i440fx",
                        "\"defaultMachine\":\"pc i440fx"), "\u0000".repeat(100))) {
            Files.writeString(file, bad, StandardCharsets.ISO_8859_1);
            Counting c = new Counting();
            QemuCapabilities caps = new CapabilityCache(c, dir).of(QEMU);
            assertEquals(2, c.runs.size(), "probed again after: " + abbreviated(bad));
            assertNotNull(caps.qmp());
            assertEquals(good.length(), Files.readString(file).length(), "rewritten");
        }
    }

    private static String abbreviated(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "…" : s;
    }

    private static List<Path> leftIn(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    /** Processes whose command line names the probe directory. */
    private List<Long> probesRunning() throws IOException {
        List<Long> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) s.filter(p -> p.getFileName().toString().matches("\\d+"))::iterator) {
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmd.contains(dir.toString())) {
                        out.add(Long.parseLong(p.getFileName().toString()));
                    }
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return out;
    }
}
