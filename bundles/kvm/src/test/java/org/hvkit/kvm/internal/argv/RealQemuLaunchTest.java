package org.hvkit.kvm.internal.argv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.ParameterException;
import org.hvkit.kvm.internal.caps.CapabilityCache;
import org.hvkit.kvm.internal.caps.HelpFixtures;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.monitor.QmpClient;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.netdev.NativeTests;
import org.hvkit.kvm.internal.process.QemuProcesses;
import org.hvkit.kvm.internal.runtime.RuntimePaths;
import org.hvkit.netdev.FdMapping;
import org.hvkit.netdev.NativeFd;
import org.hvkit.netdev.SpawnRequest;
import org.hvkit.netdev.SpawnResult;
import org.hvkit.netdev.Tap;
import org.hvkit.netdev.UnixSocket;
import org.hvkit.netdev.internal.PosixSpawner;
import org.hvkit.netdev.internal.TunTapDevices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance for the argv builder: every scenario rendered for the real QEMU 7.2 of this
 * machine is launched (with {@code -S}, real taps at the promised descriptor numbers, the real
 * test guest's kernel, temporary disks) and must come up: QMP answers {@code query-status}.
 * Then it is killed (by pid). One test per scenario; runs as root in a private network namespace
 * (VNC ports, taps).
 */
class RealQemuLaunchTest {

    private static final Path QEMU = NativeTests.QEMU;
    private static final String REFUSED_AS_GOLDEN = "refused before QEMU runs, as its golden file says: ";

    /** What every launch shares: the runtime directory, the files behind the placeholders, the builder. */
    private record Machine(RuntimePaths paths, Map<String, String> places, KvmArgvBuilder builder,
                           QemuCapabilities caps, PosixSpawner spawner, TunTapDevices taps, KvmParameters.Node node) {

        UnaryOperator<String> resolver() {
            return x -> places.getOrDefault(x, x);
        }
    }

    /** One test per scenario: launched with {@code -S}, it must answer {@code query-status}. */
    @TestFactory
    Stream<DynamicTest> everyScenarioComesUpOnRealQemu(@TempDir Path tmp) throws Exception {
        NativeTests.require("everyScenarioComesUpOnRealQemu", NativeTests.whyNoRealQemu());
        Machine m = machine(tmp);
        System.out.println("Real QEMU " + m.caps().versionText() + " launches:");
        return Scenario.all().stream().map(s -> DynamicTest.dynamicTest(s.name(),
                s.file().toUri(), () -> comesUp(s, m)));
    }

    private static Machine machine(Path tmp) throws Exception {
        Path guest = GuestImage.ensure();
        PosixSpawner spawner = new PosixSpawner();
        spiceInterface(spawner);
        QemuCapabilities caps = new CapabilityCache(spawner).of(QEMU);
        assertEquals(HelpFixtures.capabilities("qemu-7.2.22").features(), caps.features(),
                "the captured 7.2 fixture matches this machine's binary");

        // a comma in root.dir reaches every socket, log and chroot path: each must be escaped
        Path root = Files.createDirectories(tmp.resolve("r,oot=x"));
        RuntimePaths paths = new RuntimePaths(root);
        for (Path d : List.of(paths.pidDir(), paths.ctrlDir(), paths.chrootDir())) {
            Files.createDirectories(d);
        }
        Map<String, String> places = new HashMap<>();
        places.put("@DISK0@", raw(tmp.resolve("disk0.img")));
        places.put("@DISK1@", raw(tmp.resolve("disk1.img")));
        places.put("@KERNEL@", guest.resolve("vmlinuz").toString());
        places.put("@INITRD@", guest.resolve("initramfs.gz").toString());
        places.put("@ISO@", raw(tmp.resolve("cd.iso")));
        places.put("@ISO2@", raw(tmp.resolve("cd2.iso")));
        places.put("@FLOPPY@", raw(tmp.resolve("floppy.img")));
        places.put("@VNCDIR@", Files.createDirectories(tmp.resolve("vnc")).toString());
        places.put("@MEMDIR@", Files.createDirectories(tmp.resolve("mem")).toString());
        places.put("@PWFILE@", Files.writeString(tmp.resolve("vncpw"), "secret\n").toString());
        // a second path to this QEMU, allowed as an instance's kvm_path like kvm.allowed.paths does
        Path otherKvm = Files.createSymbolicLink(tmp.resolve("qemu-other"), QEMU.toRealPath());
        places.put("@OTHERKVM@", otherKvm.toString());
        places.put("@X509@", X509.selfSigned(tmp.resolve("x509"), spawner).toString());
        // unescaped, each of these would add an option QEMU refuses (or obeys)
        places.put("@CDISK@", raw(tmp.resolve("disk,format=qcow2.img")));
        places.put("@CISO@", raw(tmp.resolve("cd,format=qcow2.iso")));
        places.put("@CVNCDIR@", Files.createDirectories(tmp.resolve("vnc,websocket=on")).toString());
        places.put("@CX509@", X509.selfSigned(tmp.resolve("x509,verify-peer=maybe"), spawner).toString());
        places.put("@CKERNEL@", Files.createSymbolicLink(tmp.resolve("vmlinuz,1"), guest.resolve("vmlinuz")).toString());
        places.put("@CINITRD@", Files.createSymbolicLink(tmp.resolve("initrd,1"), guest.resolve("initramfs.gz"))
                .toString());
        places.put("@CMEMDIR@", Files.createDirectories(tmp.resolve("mem,x")).toString());

        return new Machine(paths, places, new KvmArgvBuilder(QEMU, java.util.Set.of(otherKvm), paths,
                spiceCertificates(tmp.resolve("spice"), spawner)), caps, spawner, new TunTapDevices(),
                new KvmParameters.Node(u -> u.equals("nobody"), Path.of("/dev/vhost-net"), i -> Files.exists(Path.of("/sys/class/net", i))));
    }

    private static void comesUp(Scenario s, Machine m) throws Exception {
        Instance instance = s.instance(m.resolver());
        Map<String, Object> hv = Scenario.filledHvparams(instance);
        try {
            KvmParameters.validate(hv, m.node());
        } catch (ParameterException e) {
            // honest outcome on this node (e.g. no /dev/vhost-net): refused before QEMU runs
            outcome(s, "refused by node validation: " + e.getMessage());
            if (KvmParameters.bool(hv, KvmParameters.VHOST_NET) && !Files.exists(Path.of("/dev/vhost-net"))) {
                // the right outcome where the module is not loaded (these machines): refused, naming the fix
                assertEquals("vhost_net is enabled but /dev/vhost-net does not exist on this node (load the"
                        + " vhost_net module, or set vhost_net to false)", e.getMessage());
                return;
            }
            fail(s.name() + ": unexpected validation error: " + e.getMessage());
        }
        if (KvmParameters.bool(hv, KvmParameters.USE_CHROOT)) {
            Path chroot = m.paths().chrootDir(Scenario.INSTANCE);
            Files.createDirectories(chroot);
            Files.setPosixFilePermissions(chroot, PosixFilePermissions.fromString("rwx------"));
        }
        String outcome = launch(s, instance, hv, m);
        outcome(s, outcome);
        if (s.name().equals("kvm-enabled") && !Files.exists(Path.of("/dev/kvm"))) {
            // KVM is opt-in and this machine has no /dev/kvm: QEMU parses the whole argv and then
            // fails at accelerator set-up, and only there (any option error would come first)
            assertTrue(outcome.startsWith("QEMU refused") && outcome.contains("Could not access KVM kernel module"),
                    s.name() + " without /dev/kvm must fail at KVM set-up and nowhere earlier: " + outcome);
            return;
        }
        assertTrue(outcome.startsWith("up") || outcome.startsWith(REFUSED_AS_GOLDEN),
                s.name() + " did not come up on real QEMU: " + outcome);
    }

    private static void outcome(Scenario s, String outcome) {
        System.out.println("  " + s.name() + ": " + outcome);
    }

    private static String launch(Scenario s, Instance instance, Map<String, Object> hv, Machine m) throws Exception {
        RuntimePaths paths = m.paths();
        List<Tap> open = new ArrayList<>();
        List<NativeFd> listening = new ArrayList<>();
        long pid = -1;
        try {
            KvmArgvBuilder.Generated g;
            try {
                g = m.builder().generate(instance, hv, m.caps(), s.savedLayout());
            } catch (HypervisorException e) {
                // refused before QEMU runs: right only where the golden file says so for this QEMU
                List<String> golden = Files.readAllLines(s.file().resolveSibling("qemu-7.2.22.args"));
                String asGolden = e.getMessage().replace(m.paths().root().toString(),
                        GoldenArgvTest.PATHS.root().toString()).replace(QEMU.toString(), GoldenArgvTest.KVM.toString())
                        .replace(m.places().get("@OTHERKVM@"), GoldenArgvTest.OTHER_KVM.toString());
                assertEquals(List.of("ERROR: " + asGolden), golden, s.name() + ": refused unlike its golden file");
                return REFUSED_AS_GOLDEN + e.getMessage();
            }
            ExecutionContext ctx = s.executionContext(instance, hv, m.caps());
            List<FdMapping> mappings = new ArrayList<>();
            for (int i = 0; i < instance.nics().size(); i++) {
                List<Integer> fds = ctx.nicFds().get(i);
                List<Tap> queues = m.taps().openMultiQueue(null, NicArgs.vnetHdr(hv, m.caps()), fds.size());
                open.addAll(queues);
                for (int q = 0; q < fds.size(); q++) {
                    mappings.add(new FdMapping(queues.get(q).fd(), fds.get(q)));
                }
            }
            // where QEMU takes descriptors, the sockets are bound here, as the launcher does
            if (ctx.control() != null) {
                listening.add(UnixSocket.listen(paths.monitorSocket(Scenario.INSTANCE), 4));
                mappings.add(new FdMapping(listening.get(listening.size() - 1), ctx.control().monitor()));
                listening.add(UnixSocket.listen(paths.qmpSocket(Scenario.INSTANCE), 4));
                mappings.add(new FdMapping(listening.get(listening.size() - 1), ctx.control().qmp()));
                if (ctx.control().serial() >= 0) {
                    listening.add(UnixSocket.listen(paths.serialSocket(Scenario.INSTANCE), 4));
                    mappings.add(new FdMapping(listening.get(listening.size() - 1), ctx.control().serial()));
                }
                if (ctx.control().guestAgent() >= 0) {
                    listening.add(UnixSocket.listen(paths.guestAgentSocket(Scenario.INSTANCE), 4));
                    mappings.add(new FdMapping(listening.get(listening.size() - 1), ctx.control().guestAgent()));
                }
            }
            List<String> argv = m.builder().renderForNode(g.runtime(), hv, m.caps(), ctx);
            SpawnResult r = m.spawner().run(new SpawnRequest(argv, Map.of("LC_ALL", "C", "PATH", "/usr/bin:/bin"),
                    Path.of("/"), mappings), Duration.ofSeconds(60));
            if (!r.succeeded()) {
                // a daemonized QEMU writes what it says after forking to its -D log (layout 2), as the launcher shows
                Path log = paths.qemuLog(Scenario.INSTANCE);
                String logged = Files.exists(log) ? " log: " + org.hvkit.kvm.internal.runtime.SafeFiles.tail(log, 4096, 12)
                        : "";
                return "QEMU refused: " + r.failReason() + ": " + r.output() + logged + "\n    argv: " + argv;
            }
            pid = Long.parseLong(Files.readString(paths.pidFile(Scenario.INSTANCE)).trim());
            try (QmpClient qmp = QmpClient.connect(paths.qmpSocket(Scenario.INSTANCE), Duration.ofSeconds(10))) {
                JsonNode st = qmp.execute("query-status", Map.of());
                String status = st.path("status").asText();
                String expected = s.incoming() != null ? "inmigrate" : "prelaunch";
                if (!expected.equals(status)) {
                    return "status " + status + ", expected " + expected;
                }
                if (argv.contains("-spice")) {
                    String spice = spiceAsRendered(qmp, hv, instance.networkPort());
                    if (!KvmParameters.str(hv, KvmParameters.SPICE_PASSWORD_FILE).isEmpty()) {
                        // what the launcher sends before the guest runs: SPICE without disable-ticketing takes a ticket
                        qmp.execute("set_password", Map.of("protocol", "spice", "password", "secret"));
                        spice += ", password set over QMP";
                    }
                    return "up (" + status + ", " + spice + ", QEMU " + qmp.version() + ")";
                }
                return "up (" + status + ", QEMU " + qmp.version() + ")";
            }
        } finally {
            for (Tap t : open) {
                t.close();
            }
            listening.forEach(NativeFd::close);
            if (pid > 0) {
                kill(pid);
            }
            try (var files = Files.list(paths.ctrlDir())) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(paths.pidFile(Scenario.INSTANCE));
        }
    }

    /** SIGKILL and wait until every thread is gone (a zombie leader's threads still hold image locks). */
    /**
     * The interface the {@code ganeti30-spice-interface*} scenarios name, with the addresses
     * {@link GoldenArgvTest#SPICE} gives it: a bridge in this test's network namespace. (Loopback
     * does not do: with {@code ipv4=on} SPICE resolves its address for that family only, which
     * glibc refuses where loopback is the family's only address.)
     */
    private static void spiceInterface(PosixSpawner spawner) throws Exception {
        String name = GoldenArgvTest.SPICE_INTERFACE;
        if (Files.exists(Path.of("/sys/class/net", name))) {
            return;
        }
        for (List<String> cmd : List.of(List.of("ip", "link", "add", name, "type", "bridge"),
                List.of("ip", "addr", "add", "192.0.2.1/24", "dev", name),
                List.of("ip", "-6", "addr", "add", "2001:db8::1/64", "dev", name, "nodad"),
                List.of("ip", "link", "set", name, "up"))) {
            SpawnResult r = spawner.run(SpawnRequest.of(cmd), Duration.ofSeconds(10));
            assertTrue(r.succeeded(), cmd + ": " + r.output());
        }
    }

    /** The bridge goes with the class: later test classes in this JVM's namespace count links. */
    @AfterAll
    static void removeSpiceInterface() throws Exception {
        if (Files.exists(Path.of("/sys/class/net", GoldenArgvTest.SPICE_INTERFACE))) {
            new PosixSpawner().run(SpawnRequest.of(List.of("ip", "link", "del", GoldenArgvTest.SPICE_INTERFACE)),
                    Duration.ofSeconds(10));
        }
    }

    /**
     * Ganeti's two SPICE files from a throw-away CA: spice.pem (the key, then the certificate)
     * and spice-ca.pem; interfaces are this network namespace's.
     */
    private static SpiceNode spiceCertificates(Path dir, PosixSpawner spawner) throws Exception {
        X509.selfSigned(dir, spawner);
        Path pem = dir.resolve("spice.pem");
        Files.writeString(pem, Files.readString(dir.resolve("server-key.pem")) + Files.readString(dir.resolve("server-cert.pem")));
        return new SpiceNode(pem, dir.resolve("ca-cert.pem"), SpiceNode.SYSTEM.interfaces());
    }

    /**
     * What QEMU says of its SPICE server ({@code query-spice}) against the argv: enabled, on the
     * instance's port as {@code tls-port} with {@code spice_use_tls}, else as {@code port}.
     */
    private static String spiceAsRendered(QmpClient qmp, Map<String, Object> hv, int port) throws Exception {
        JsonNode spice = qmp.execute("query-spice", Map.of());
        boolean tls = KvmParameters.bool(hv, KvmParameters.SPICE_USE_TLS);
        assertTrue(spice.path("enabled").asBoolean(), "query-spice: " + spice);
        assertEquals(port, spice.path(tls ? "tls-port" : "port").asInt(), "query-spice: " + spice);
        assertFalse(spice.has(tls ? "port" : "tls-port"), "query-spice: " + spice);
        String peer = tls ? ", TLS handshake: " + tlsPeer(spice.path("host").asText(), port) : "";
        return "SPICE on " + spice.path("host").asText() + (tls ? " tls-port " : " port ") + port + peer;
    }

    /** A TLS handshake with QEMU's SPICE port: the subject of the certificate it presents (the node's spice.pem). */
    private static String tlsPeer(String host, int port) throws Exception {
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
            // the test only asks which certificate SPICE presents; it does not trust it for anything
            @Override public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) { }
            @Override public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) { }
            @Override public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
            }
        }}, null);
        try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) ctx.getSocketFactory().createSocket()) {
            s.connect(new java.net.InetSocketAddress(host, port), 5000);
            s.setSoTimeout(5000);
            s.startHandshake();
            String subject = ((java.security.cert.X509Certificate) s.getSession().getPeerCertificates()[0])
                    .getSubjectX500Principal().getName();
            assertEquals("CN=localhost", subject, "the certificate of spice.pem");
            return subject + " over " + s.getSession().getProtocol();
        }
    }

    static void kill(long pid) throws InterruptedException {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        if (!new QemuProcesses().waitGone(pid, Duration.ofSeconds(10), () -> false)) {
            throw new AssertionError("QEMU pid " + pid + " did not die");
        }
    }

    private static String raw(Path p) throws java.io.IOException {
        try (var f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        return p.toString();
    }
}
