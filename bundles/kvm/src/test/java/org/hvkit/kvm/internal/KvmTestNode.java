package org.hvkit.kvm.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.kvm.internal.argv.GuestImage;
import org.hvkit.netdev.NativeTests;
import org.hvkit.netdev.internal.FlockFileLocks;
import org.hvkit.netdev.internal.PosixSpawner;
import org.hvkit.netdev.internal.RtNetlink;
import org.hvkit.netdev.internal.SchedCpuAffinity;
import org.hvkit.netdev.internal.TunTapDevices;
import org.hvkit.uidpool.UidPool;

/** A KVM node for tests: real QEMU, netdev, a runtime dir under a temp dir; only as root in a private netns. */
final class KvmTestNode {

    static final Path QEMU = NativeTests.QEMU;

    static void requireRealQemu() {
        NativeTests.require("real-QEMU lifecycle test", NativeTests.whyNoRealQemu());
    }

    static KvmHypervisor node(Path root, Path kvm, boolean script, Path ifup) {
        return node("node-a", root, kvm, script, ifup);
    }

    static KvmHypervisor node(String name, Path root, Path kvm, boolean script, Path ifup) {
        return node(settings(name, root, kvm, script, ifup));
    }

    /**
     * Where the tests keep their disk images: the JVM's temp directory (JUnit's {@code @TempDir},
     * {@code Files.createTempDirectory}), by its real path — the node key {@code disk.file.dirs}
     * of every test node.
     */
    static final java.util.Set<Path> DISK_DIRS = java.util.Set.of(realTmp());

    private static Path realTmp() {
        try {
            return Path.of(System.getProperty("java.io.tmpdir")).toRealPath();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static KvmSettings settings(String name, Path root, Path kvm, boolean script, Path ifup) {
        return new KvmSettings(name, root, kvm, script, ifup, Duration.ofSeconds(5), Path.of("/usr/bin/socat"),
                Duration.ofSeconds(20), Duration.ofSeconds(60), KvmSettings.hvparamDefaults(Map.of()))
                .allowingDiskFiles(DISK_DIRS);
    }

    /**
     * Settings of node {@code name} at {@code root} for a two-node migration test: the migration
     * moves at 1000 MiB/s on {@code port} (docs/reliability.md: TCG guests are migrated in one pass).
     */
    static KvmSettings migrationSettings(String name, Path root, int port) {
        KvmSettings s = settings(name, root, QEMU, false, null);
        Map<String, Object> defaults = KvmSettings.hvparamDefaults(Map.of("hvparam.migration_bandwidth", "1000",
                "hvparam.migration_port", Integer.toString(port)));
        return s.withHvparamDefaults(defaults);
    }

    /** A TCP port nothing listens on right now (for a migration). */
    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A migration (live or not) of {@code instance} from {@code source} to {@code target} over loopback, to its end. */
    static void migrate(KvmHypervisor source, KvmHypervisor target, Instance instance, boolean live)
            throws HypervisorException {
        org.hvkit.hypervisor.MigrationCoordinator.migrate(source, target, instance, "127.0.0.1", live,
                new org.hvkit.hypervisor.MigrationCoordinator.Listener() {
                    @Override
                    public void accepted() {
                    }

                    @Override
                    public void status(org.hvkit.hypervisor.MigrationStatus status) {
                    }
                });
    }

    static NativeServices natives() {
        return new NativeServices(new PosixSpawner(), new TunTapDevices(), new RtNetlink(), new FlockFileLocks(),
                new SchedCpuAffinity());
    }

    /** The lifecycle core behind each node a test opened, and the uid pool it gives that core. */
    private static final Map<KvmHypervisor, Opened> OPENED = java.util.Collections.synchronizedMap(new WeakHashMap<>());

    private record Opened(KvmInstances core, AtomicReference<UidPool> pool, Path kvmPath) {
    }

    /** A node without a uid pool ({@link #pool} gives it one), opened the way {@link KvmNode} opens it. */
    static KvmHypervisor node(KvmSettings settings) {
        return node(settings, null);
    }

    /** A node whose core takes its uids from {@code pool} (null: none, until {@link #pool} sets one). */
    static KvmHypervisor node(KvmSettings settings, UidPool pool) {
        try {
            return open(settings, pool);
        } catch (HypervisorException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@link #node(KvmSettings, UidPool)}, with the error opening the node gives (e.g. root.dir owned by another). */
    static KvmHypervisor open(KvmSettings settings, UidPool pool) throws HypervisorException {
        return open(settings, pool, natives());
    }

    /** {@link #open(KvmSettings, UidPool)} on other native services (e.g. one that fails on purpose). */
    static KvmHypervisor open(KvmSettings settings, UidPool pool, NativeServices natives) throws HypervisorException {
        return open(settings, pool, natives, null);
    }

    /** A node that publishes its instance events to {@code events} (what EventAdmin gets in Karaf). */
    static KvmHypervisor open(KvmSettings settings, UidPool pool, NativeServices natives,
                              org.hvkit.kvm.internal.events.InstanceEventSink events) throws HypervisorException {
        return open(settings, pool, natives, events, KvmInstances.LAUNCH_TIMEOUT);
    }

    /** {@link #open(KvmSettings, UidPool)} whose starts wait at most {@code launchTimeout} for QEMU to daemonize. */
    static KvmHypervisor open(KvmSettings settings, UidPool pool, Duration launchTimeout) throws HypervisorException {
        return open(settings, pool, natives(), null, launchTimeout);
    }

    private static KvmHypervisor open(KvmSettings settings, UidPool pool, NativeServices natives,
                                      org.hvkit.kvm.internal.events.InstanceEventSink events, Duration launchTimeout)
            throws HypervisorException {
        AtomicReference<UidPool> ref = new AtomicReference<>(pool);
        KvmInstances core = new KvmInstances(settings, natives, ref::get, () -> events, launchTimeout);
        KvmHypervisor hv = new KvmHypervisor(settings, core);
        OPENED.put(hv, new Opened(core, ref, settings.kvmPath()));
        return hv;
    }

    /** What DS does when the uid-pool service comes or goes: the node's next start sees {@code pool}. */
    static void pool(KvmHypervisor hv, UidPool pool) {
        opened(hv).pool().set(pool);
    }

    /** The node's lifecycle core (its monitors, store, processes). */
    static KvmInstances core(KvmHypervisor hv) {
        return opened(hv).core();
    }

    /** One QMP command on a running instance, over the connection the node keeps. */
    static JsonNode qmp(KvmHypervisor hv, String name, String command) throws HypervisorException {
        KvmInstances core = core(hv);
        long pid = core.alive(name).orElseThrow(() -> new HypervisorException("Instance " + name + " is not running"))
                .pid();
        return core.onMonitor(name, pid, q -> q.execute(command, Map.of()));
    }

    /**
     * Makes a running instance run as an hvkit before device layouts started it: its runtime file
     * rewritten in layout 1 as that hvkit wrote it (no "layout"), then a reboot, which executes it.
     *
     * @return the runtime file's text
     */
    static String rebootInLayout1(KvmHypervisor hv, Instance instance) throws Exception {
        KvmInstances core = core(hv);
        Map<String, Object> filled = new java.util.LinkedHashMap<>(core.filled(instance));
        var old = core.launcher().builder().generate(instance, filled, core.capabilities().of(opened(hv).kvmPath()),
                org.hvkit.kvm.internal.argv.DeviceLayout.legacy());
        String text = org.hvkit.kvm.internal.runtime.RuntimeStore.serialize(old.runtime(), instance)
                .replace("\"layout\" : 1,", "");
        if (text.contains("layout")) {
            throw new AssertionError("not a runtime file of layout 1: " + text);
        }
        core.store().saveText(instance.name(), text);
        hv.rebootInstance(java.util.Objects.requireNonNull(hv.runningInstance(instance.name())));
        return text;
    }

    private static Opened opened(KvmHypervisor hv) {
        Opened o = OPENED.get(hv);
        if (o == null) {
            throw new IllegalArgumentException(hv + " was not opened by KvmTestNode");
        }
        return o;
    }

    /**
     * The regular files under a node's root.dir that belong to instances, sorted: all but the
     * node's own (its hvkit.lock, the installed kvm-ifup, the capability cache in caps/).
     */
    static List<String> instanceFiles(Path root) throws IOException {
        try (java.util.stream.Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString())
                    .filter(p -> !p.equals("kvm-ifup") && !p.equals("hvkit.lock") && !p.startsWith("caps/"))
                    .sorted().toList();
        }
    }

    /** The test guest with a bridged NIC on {@code bridge}, pinging the host at .1. */
    static Instance.Builder guest(String name, String bridge, String ip) throws Exception {
        Path g = GuestImage.ensure();
        Instance.Builder b = Instance.builder(name).primaryNode("node-a").memory(128).vcpus(1)
                .hvparam("kernel_path", g.resolve("vmlinuz").toString())
                .hvparam("initrd_path", g.resolve("initramfs.gz").toString())
                .hvparam("root_path", "/dev/ram0")
                .hvparam("kernel_args", "panic=-1" + (ip == null ? "" : " guest.ip=" + ip + "/24 guest.ping="
                        + ip.substring(0, ip.lastIndexOf('.')) + ".1"))
                .hvparam("kvm_flag", "disabled");
        if (bridge != null) {
            b.nic(new Nic("aa:00:00:00:10:" + String.format("%02x", Math.abs(name.hashCode()) % 250), null,
                    NicMode.BRIDGED, bridge));
        }
        return b;
    }

    static String serialLog(Path root, String name) {
        try {
            return Files.readString(root.resolve("ctrl").resolve(name + ".serial.log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    static void awaitLog(Path root, String name, String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!serialLog(root, name).contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("'" + text + "' not in the serial log of " + name + " within " + timeout
                        + ":\n" + serialLog(root, name));
            }
            Thread.sleep(50);
        }
    }

    /** How many of the descriptors in {@code fdDir} (a {@code /proc/<pid>/fd}) point at a target {@code test} accepts. */
    static long countFds(Path fdDir, java.util.function.Predicate<String> test) throws IOException {
        try (java.util.stream.Stream<Path> fds = Files.list(fdDir)) {
            return fds.filter(fd -> {
                try {
                    return test.test(Files.readSymbolicLink(fd).toString());
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        }
    }

    static int count(String haystack, String needle) {
        return haystack.split(java.util.regex.Pattern.quote(needle), -1).length - 1;
    }

    /** A bridge in the test's namespace, up, with {@code cidr} as the host's address (or none). */
    static void bridge(String name, String cidr) throws Exception {
        ip("link", "add", name, "type", "bridge");
        if (cidr != null) {
            ip("addr", "add", cidr, "dev", name);
        }
        ip("link", "set", name, "up");
    }

    /** {@link #bridge}, unless a test of the same class made it already. */
    static void ensureBridge(String name, String cidr) throws Exception {
        if (!Files.exists(Path.of("/sys/class/net", name))) {
            bridge(name, cidr);
        }
    }

    /** Removes a class's bridge (later test classes in the same namespace count links). */
    static void removeBridge(String name) throws Exception {
        if (Files.exists(Path.of("/sys/class/net", name))) {
            ip("link", "del", name);
        }
    }

    /**
     * A block device this machine has mounted, from the kernel's tables: {path in /dev,
     * "major:minor", its first mount point}. Fails (never skips) where there is none.
     */
    static String[] mountedBlockDevice() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            Path uevent = Path.of("/sys/dev/block", f[2], "uevent");
            if (f.length > 4 && Files.isRegularFile(uevent)) {
                for (String u : Files.readAllLines(uevent)) {
                    if (u.startsWith("DEVNAME=") && Files.exists(Path.of("/dev", u.substring(8)))) {
                        return new String[] {"/dev/" + u.substring(8), f[2], f[4]};
                    }
                }
            }
        }
        throw new AssertionError("this machine mounts no block device (/proc/self/mountinfo): the host-use check"
                + " of a disk cannot be shown here");
    }

    static void ip(String... args) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of("ip"));
        argv.addAll(List.of(args));
        run(argv.toArray(new String[0]));
    }

    static void mount(String... args) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of("mount"));
        argv.addAll(List.of(args));
        run(argv.toArray(new String[0]));
    }

    /** Runs a program (never a shell string) and fails with its output unless it exits 0. */
    static void run(String... args) throws Exception {
        output(args);
    }

    /** Runs a command to its end; its output (stdout and stderr), or an exception naming it when it fails. */
    static String output(String... args) throws Exception {
        List<String> argv = List.of(args);
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(argv + ": still running after 60 s");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(argv + ": " + out);
        }
        return out;
    }
}
