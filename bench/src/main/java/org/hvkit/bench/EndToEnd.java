package org.hvkit.bench;

import static org.hvkit.bench.Stats.f;
import static org.hvkit.bench.Stats.median;
import static org.hvkit.bench.Stats.ms;
import static org.hvkit.bench.Stats.msSummary;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.MigrationInfo;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.kvm.internal.KvmNodeFixture;
import org.hvkit.kvm.internal.monitor.QmpClient;
import org.hvkit.netdev.internal.FlockFileLocks;
import org.hvkit.uidpool.UidPool;
import org.hvkit.uidpool.UidRanges;
import org.hvkit.uidpool.internal.FlockUidPool;

/**
 * The end-to-end benchmark: hvkit's KVM driver on real QEMU (TCG) next to its floor (bare
 * QEMU) and the seed's ways, medians over repetitions measured side by side in one run.
 * Prints a Markdown table and writes it, with the machine and a reading, to the output file.
 * Runs as root inside the private network and mount namespace bench/run prepares (bridge
 * {@code br0}, passwd entries for the pool uids).
 */
public final class EndToEnd {

    private static final String ADDRESS = "127.0.0.1";

    private final Path guest;
    private final Path karafHome;
    private final Path qemu;
    private final int reps;
    private final int scale;
    private final Path work;
    private final String poolRange;
    private final List<Row> rows = new ArrayList<>();
    /** The steps to run ({@code --only start,crash,...}); null: all of them. */
    private java.util.Set<String> only;
    private final List<String> notes = new ArrayList<>();
    /** Every node created, so that the finally block can stop whatever is still running. */
    private final List<Hypervisor> nodes = new ArrayList<>();
    private final List<Long> barePids = new ArrayList<>();
    /** Ganeti 3.0's figures from bench/ganeti_bench.py (same run, same guest), or null. */
    private final Path ganetiResults;
    /** libvirt's figures from bench/libvirt_bench.sh, or null. */
    private final Path libvirtResults;
    /** hvkit's figures the comparison with Ganeti needs. */
    private final List<Double> startOnly = new ArrayList<>();
    private final List<Double> forceStopRunning = new ArrayList<>();
    private final Map<Integer, List<Double>> listTimes = new LinkedHashMap<>();

    /** One line of the table. */
    record Row(String what, String hvkit, String baseline, String ratio, String goal, String verdict) {
    }

    private EndToEnd(Path guest, Path karafHome, Path qemu, int reps, int scale, String poolRange, Path ganetiResults,
                     Path libvirtResults) throws IOException {
        this.ganetiResults = ganetiResults;
        this.libvirtResults = libvirtResults;
        this.guest = guest;
        this.karafHome = karafHome;
        this.qemu = qemu;
        this.reps = reps;
        this.scale = scale;
        this.poolRange = poolRange;
        // unix socket paths must stay under 108 bytes: a short root
        this.work = Files.createTempDirectory(Path.of("/tmp"), "hvb");
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i], args[i + 1]);
        }
        EndToEnd e = new EndToEnd(Path.of(req(a, "--guest")), Path.of(req(a, "--karaf")),
                Path.of(a.getOrDefault("--qemu", "/usr/bin/qemu-system-x86_64")),
                Integer.parseInt(a.getOrDefault("--reps", "10")), Integer.parseInt(a.getOrDefault("--scale", "200")),
                a.getOrDefault("--pool", "2100000-2100039"), a.containsKey("--ganeti") ? Path.of(a.get("--ganeti")) : null,
                a.containsKey("--libvirt") ? Path.of(a.get("--libvirt")) : null);
        if (a.containsKey("--only")) {
            e.only = java.util.Set.of(a.get("--only").split(","));
        }
        String table = e.run();
        Path out = Path.of(req(a, "--table-out"));
        Files.writeString(out, table, StandardCharsets.UTF_8);
        System.out.println();
        System.out.println(table);
    }

    private static String req(Map<String, String> a, String key) {
        String v = a.get(key);
        if (v == null) {
            throw new IllegalArgumentException("missing " + key + " (usage: --guest DIR --karaf DIR --table-out FILE"
                    + " [--qemu PATH] [--reps N] [--scale N] [--pool RANGE] [--only STEP,...])");
        }
        return v;
    }

    private String run() throws Exception {
        try {
            step("start", this::startOverhead);
            step("caps", this::capabilityProbe);
            step("monitor", this::monitorRoundTrip);
            step("migration", this::migrationNoticed);
            step("converging", this::convergingMigrations);
            step("concurrent", this::concurrentStarts);
            step("stop", this::stopNoticed);
            step("crash", this::crashNoticed);
            step("scale", this::listAtScaleAndFootprint);
            step("alternatives", this::alternatives);
            step("remote", this::remoteCalls);
        } finally {
            cleanUp();
        }
        StringBuilder t = new StringBuilder();
        t.append("| # | what | hvkit | baseline | ratio | goal | met |\n|---|---|---|---|---|---|---|\n");
        int i = 1;
        for (Row r : rows) {
            t.append("| ").append(i++).append(" | ").append(r.what).append(" | ").append(r.hvkit).append(" | ")
                    .append(r.baseline).append(" | ").append(r.ratio).append(" | ").append(r.goal).append(" | ")
                    .append(r.verdict).append(" |\n");
        }
        if (!notes.isEmpty()) {
            t.append('\n');
            for (String n : notes) {
                t.append("- ").append(n).append('\n');
            }
        }
        return t.toString();
    }

    /** One step of the run. */
    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    /** Runs {@code step} unless {@code --only} leaves it out (to measure one row while working on it). */
    private void step(String name, Step step) throws Exception {
        if (only == null || only.contains(name)) {
            step.run();
        }
    }

    static void progress(String what) {
        System.out.println("[bench] " + what);
        System.out.flush();
    }

    // ------------------------------------------------------------------ nodes and guests

    private Hypervisor node(String name, UidPool pool, Map<String, ?> defaults) throws IOException {
        Path root = work.resolve(name);
        Files.createDirectories(root);
        Hypervisor hv = KvmNodeFixture.node(name, root, qemu, pool, defaults);
        nodes.add(hv);
        return hv;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private Path root(Hypervisor hv) {
        return work.resolve(hv.node());
    }

    private long pid(Hypervisor hv, String name) throws IOException {
        return Long.parseLong(Files.readString(root(hv).resolve("pid").resolve(name)).trim());
    }

    /** A spinning thread that looks at /proc every 20 µs and puts the time {@code pid} exited into {@code at[0]}. */
    static Thread watchExit(long pid, long[] at) {
        Thread watcher = new Thread(() -> {
            while (!exited(pid)) {
                java.util.concurrent.locks.LockSupport.parkNanos(20_000);
            }
            at[0] = System.nanoTime();
        });
        watcher.setDaemon(true);
        watcher.start();
        return watcher;
    }

    /** Exited: no /proc entry, or a zombie waiting for its reaper. */
    static boolean exited(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return true;
        }
    }

    private static String queryStatus(Path qmpSocket) throws Exception {
        try (QmpClient qmp = QmpClient.connect(qmpSocket, Duration.ofSeconds(10))) {
            return qmp.execute("query-status", Map.of()).path("status").asText();
        }
    }

    static void stopQuietly(Hypervisor hv, String name) {
        try {
            Instance i = hv.runningInstance(name);
            if (i != null) {
                hv.stopInstance(i, true, Duration.ofSeconds(10));
            }
            hv.cleanupInstance(name);
        } catch (Exception e) {
            System.err.println("[bench] cleaning up " + name + " on " + hv.node() + ": " + e);
        }
    }

    // ------------------------------------------------------------------ 1. start overhead

    private void startOverhead() throws Exception {
        progress("1/8 start overhead: hvkit startInstance vs bare qemu -daemonize of the identical argv, " + reps
                + " reps each, alternating");
        Hypervisor a = node("start", null, Map.of());
        Instance inst = BenchGuests.guest("st", guest, 64, false).build();
        List<String> argv = ((org.hvkit.hypervisor.CommandLinePreview) a).previewCommand(inst);
        Path qmpSocket = root(a).resolve("ctrl/st.qmp");
        List<Double> hv = new ArrayList<>();
        List<Double> bare = new ArrayList<>();
        for (int i = 0; i < reps + 1; i++) {
            long t0 = System.nanoTime();
            a.startInstance(inst, false);
            long started = System.nanoTime();
            // query-status through the driver's own monitor connection (QEMU serves one QMP client)
            if (a.instanceInfo("st") == null) {
                throw new IllegalStateException("started, but not listed");
            }
            long t1 = System.nanoTime();
            long s0 = System.nanoTime();
            a.stopInstance(Objects.requireNonNull(a.runningInstance("st"), "st"), true, Duration.ofSeconds(10));
            long s1 = System.nanoTime();
            a.cleanupInstance("st");
            long b0 = System.nanoTime();
            bareStart(argv, root(a).resolve("ctrl"), "st");
            // the conversation any manager has with a started guest: resume it, see it run
            try (QmpClient qmp = QmpClient.connect(qmpSocket, Duration.ofSeconds(10))) {
                qmp.execute("cont", Map.of());
                if (!"running".equals(qmp.execute("query-status", Map.of()).path("status").asText())) {
                    throw new IllegalStateException("the bare QEMU does not run after cont");
                }
            }
            long b1 = System.nanoTime();
            long barePid = Long.parseLong(Files.readString(root(a).resolve("pid/st")).trim());
            barePids.add(barePid);
            killAndWait(barePid);
            a.cleanupInstance("st"); // the bare run left the same files behind
            if (i > 0) { // the first pair warms caches (page cache, capability probe)
                hv.add(ms(t1 - t0));
                bare.add(ms(b1 - b0));
                startOnly.add(ms(started - t0));
                forceStopRunning.add(ms(s1 - s0));
            }
        }
        double ratio = median(hv) / median(bare);
        rows.add(new Row("start until QMP answers `query-status` (64 MiB guest, TCG): `startInstance` + `instanceInfo`",
                msSummary(hv),
                "bare `qemu -daemonize` (posix_spawn) of the same argv, then QMP `cont` + `query-status`: " + msSummary(bare), f(ratio), "≤ 1.05",
                ratio <= 1.05 ? "yes" : "no"));
    }

    /**
     * The floor: QEMU started with nothing around it, by a bare {@code posix_spawn} (Java's
     * ProcessBuilder would add an exec of jspawnhelper), waiting for the daemonizing parent. The
     * argv is the driver's, whose monitor, QMP and serial sockets are descriptors: the floor binds
     * them too (as any manager that passes sockets does, libvirt included) — at the paths the
     * driver would use, so that the same clients reach them.
     */
    private static void bareStart(List<String> argv, Path ctrlDir, String name) throws Exception {
        Map<String, String> suffixes = Map.of("hmp0", ".monitor", "qmp0", ".qmp", "serial0", ".serial");
        java.util.regex.Pattern chardev = java.util.regex.Pattern.compile("socket,id=(\\w+),fd=(\\d+),.*");
        List<org.hvkit.netdev.NativeFd> listening = new ArrayList<>();
        List<org.hvkit.netdev.FdMapping> fds = new ArrayList<>();
        try {
            for (int i = 0; i + 1 < argv.size(); i++) {
                java.util.regex.Matcher m = chardev.matcher(argv.get(i + 1));
                if (argv.get(i).equals("-chardev") && m.matches() && suffixes.containsKey(m.group(1))) {
                    Path socket = ctrlDir.resolve(name + suffixes.get(m.group(1)));
                    Files.deleteIfExists(socket);
                    org.hvkit.netdev.NativeFd fd = org.hvkit.netdev.UnixSocket.listen(socket, 16);
                    listening.add(fd);
                    fds.add(new org.hvkit.netdev.FdMapping(fd, Integer.parseInt(m.group(2))));
                }
            }
            org.hvkit.netdev.SpawnResult r = new org.hvkit.netdev.internal.PosixSpawner().run(
                    new org.hvkit.netdev.SpawnRequest(argv, Map.of("PATH", "/usr/bin:/bin"), Path.of("/"), fds),
                    Duration.ofSeconds(60));
            if (!r.succeeded()) {
                throw new IllegalStateException("bare QEMU failed to start: " + r.failReason() + " " + r.output());
            }
        } finally {
            listening.forEach(org.hvkit.netdev.NativeFd::close);
        }
    }

    private static void killAndWait(long pid) throws InterruptedException {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!exited(pid) && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
    }

    /**
     * What a node's first start pays to learn its QEMU (--help, then QMP on {@code -machine none})
     * against what a restarted bundle pays (the cache file in root.dir's caps/), measured on the
     * same binary, alternately, in one run.
     */
    private void capabilityProbe() throws Exception {
        progress("1/8 (cont.) capability probe of " + qemu + ": first (--help + QMP) vs cached on disk, " + reps
                + " repetitions");
        List<Double> first = new ArrayList<>();
        List<Double> cached = new ArrayList<>();
        org.hvkit.netdev.ProcessSpawner real = new org.hvkit.netdev.internal.PosixSpawner();
        java.util.concurrent.atomic.AtomicInteger cachedRuns = new java.util.concurrent.atomic.AtomicInteger();
        org.hvkit.netdev.ProcessSpawner counting = (request, timeout) -> {
            cachedRuns.incrementAndGet();
            return real.run(request, timeout);
        };
        for (int i = 0; i < reps; i++) {
            Path dir = Files.createDirectories(work.resolve("caps-" + i));
            long t0 = System.nanoTime();
            new org.hvkit.kvm.internal.caps.CapabilityCache(real, dir).of(qemu);
            first.add(ms(System.nanoTime() - t0));
            t0 = System.nanoTime();
            new org.hvkit.kvm.internal.caps.CapabilityCache(counting, dir).of(qemu);
            cached.add(ms(System.nanoTime() - t0));
        }
        rows.add(new Row("QEMU capabilities after a bundle restart: read from root.dir/caps/ (size+mtime+build id"
                + " checked, JSON parsed; binaries run: " + cachedRuns.get() + ")", msSummary(cached),
                "first probe: `--help` + QMP on `-machine none`: " + msSummary(first),
                f(median(cached) / median(first)), "no binary run", cachedRuns.get() == 0 ? "yes" : "no"));
    }

    // ------------------------------------------------------------------ 3. monitor round trip

    private void monitorRoundTrip() throws Exception {
        progress("3/8 monitor round trip: QMP query-status (hvkit's client) vs a socat process per HMP command (the seed)");
        Hypervisor a = node("monitor", null, Map.of());
        // started bare from the driver's own argv, so that no driver holds its QMP connection
        List<String> argv = ((org.hvkit.hypervisor.CommandLinePreview) a).previewCommand(
                BenchGuests.guest("mon", guest, 32, true).build());
        bareStart(argv, root(a).resolve("ctrl"), "mon");
        long monPid = Long.parseLong(Files.readString(root(a).resolve("pid/mon")).trim());
        barePids.add(monPid);
        Path qmpSocket = root(a).resolve("ctrl/mon.qmp");
        Path hmpSocket = root(a).resolve("ctrl/mon.monitor");
        int n = Math.max(50, reps * 5);
        List<Double> perCall = new ArrayList<>();
        List<Double> open = new ArrayList<>();
        List<Double> socat = new ArrayList<>();
        for (int i = 0; i < n + 5; i++) {
            long t0 = System.nanoTime();
            queryStatus(qmpSocket);
            if (i >= 5) {
                perCall.add(ms(System.nanoTime() - t0));
            }
        }
        try (QmpClient qmp = QmpClient.connect(qmpSocket, Duration.ofSeconds(10))) {
            for (int i = 0; i < n + 5; i++) {
                long t0 = System.nanoTime();
                qmp.execute("query-status", Map.of());
                if (i >= 5) {
                    open.add(ms(System.nanoTime() - t0));
                }
            }
        }
        // Ganeti 2.4: utils.RunCmd("echo -e ... | socat STDIO UNIX-CONNECT:<monitor>") through a shell
        String cmd = "echo 'info status' | /usr/bin/socat STDIO UNIX-CONNECT:" + hmpSocket;
        int m = Math.max(20, reps * 2);
        for (int i = 0; i < m + 2; i++) {
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder("/bin/sh", "-c", cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0 || !out.contains("VM status")) {
                throw new IllegalStateException("socat to the HMP monitor failed: " + out);
            }
            if (i >= 2) {
                socat.add(ms(System.nanoTime() - t0));
            }
        }
        killAndWait(monPid);
        a.cleanupInstance("mon");
        rows.add(new Row("monitor round trip, QMP `query-status` with hvkit's client: connect + greeting +"
                + " `qmp_capabilities` + command + close", msSummary(perCall), "socat process per HMP `info status`: " + msSummary(socat),
                f(median(perCall) / median(socat)), "context: the driver keeps its connections (next row)", "—"));
        rows.add(new Row("monitor round trip on an open QMP connection (how the driver talks to a running instance)",
                msSummary(open),
                "socat: " + f(median(socat)) + " ms", f(median(open) / median(socat)), "≤ 1 ms",
                median(open) <= 1.0 ? "yes" : "no"));
    }

    // ------------------------------------------------------------------ 4. migration completion noticed

    private void migrationNoticed() throws Exception {
        progress("4/8 migration completion noticed: QMP events (hvkit) vs the seed's 2 s `info migrate` polling");
        int port = freePort();
        // node-wide defaults, as etc/org.hvkit.kvm-*.cfg would set them (migration_* are global parameters)
        Map<String, String> defaults = Map.of("hvparam.migration_port", Integer.toString(port),
                "hvparam.migration_bandwidth", "1024");
        Hypervisor[] n = {node("miga", null, defaults), node("migb", null, defaults)};
        n[0].startInstance(BenchGuests.guest("mig", guest, 64, false).build(), false);
        List<Double> events = new ArrayList<>();
        List<Double> polling = new ArrayList<>();
        List<Double> total = new ArrayList<>();
        int src = 0;
        int m = Math.max(reps, 10);
        for (int i = 0; i < m; i++) {
            Hypervisor from = n[src];
            Hypervisor to = n[1 - src];
            Instance inst = Objects.requireNonNull(from.runningInstance("mig"), "mig");
            MigrationInfo info = from.migrationInfo(inst);
            to.acceptInstance(inst, info, ADDRESS);
            long t0 = System.nanoTime();
            from.migrateInstance(inst, ADDRESS, true);
            Instant returned = Instant.now();
            total.add(ms(System.nanoTime() - t0));
            Instant completed = from.migrationStatus(inst).completedAt();
            if (completed == null) {
                notes.add("migration " + i + " completed without a MIGRATION event (seen by query-migrate)");
            } else {
                events.add(Duration.between(completed, returned).toNanos() / 1e6);
            }
            to.finalizeMigration(inst, info, true);
            src = 1 - src;
            // the seed's way back: HMP over socat, `info migrate` every 2 s
            from = n[src];
            to = n[1 - src];
            inst = Objects.requireNonNull(from.runningInstance("mig"), "mig");
            info = from.migrationInfo(inst);
            to.acceptInstance(inst, info, ADDRESS);
            polling.add(seedMigration(from, inst, port));
            to.finalizeMigration(inst, info, true);
            src = 1 - src;
        }
        stopQuietly(n[src], "mig");
        stopQuietly(n[1 - src], "mig");
        rows.add(new Row("migration completion noticed: QEMU's `completed` event → `migrateInstance` returns (64 MiB"
                + " guest, live; whole migration " + f(median(total)) + " ms)", msSummary(events),
                "seed: `info migrate` every 2 s: " + msSummary(polling), f(median(events) / median(polling)), "≤ 50 ms",
                median(events) <= 50 ? "yes" : "no"));
    }

    /** Issue #16: the same calls locally and from another host ({@link RemoteCalls}). */
    private void remoteCalls() throws Exception {
        Map<String, String> defaults = Map.of("hvparam.migration_port", Integer.toString(freePort()),
                "hvparam.migration_bandwidth", "1000");
        Hypervisor list = node("rlist", null, Map.of());
        Hypervisor a = node("rema", null, defaults);
        Hypervisor b = node("remb", null, defaults);
        RemoteCalls c = new RemoteCalls(guest, ADDRESS, reps, scale);
        c.run(list, a, root(a), b, root(b));
        rows.addAll(c.rows());
        notes.addAll(c.notes());
    }

    /** Pre-copy only vs auto-converge vs post-copy on a guest that dirties its memory ({@link ConvergingMigrations}). */
    private void convergingMigrations() throws Exception {
        Map<String, String> defaults = Map.of("hvparam.migration_port", Integer.toString(freePort()),
                "hvparam.migration_bandwidth", "16");
        Hypervisor a = node("conva", null, defaults);
        Hypervisor b = node("convb", null, defaults);
        ConvergingMigrations c = new ConvergingMigrations(guest, ADDRESS, reps);
        c.run(a, b, root(a));
        rows.addAll(c.rows());
        notes.addAll(c.notes());
    }

    /**
     * Ganeti 2.4's MigrateInstance on the HMP monitor: {@code migrate -d}, then {@code info migrate}
     * every 2 s. Returns ms from completion to noticing it. Completion is dated from the HMP side
     * alone (the driver keeps the only QMP connection): the moment {@code migrate -d} returned
     * plus QEMU's reported {@code total time}, which dates it at most a few ms late.
     */
    private double seedMigration(Hypervisor from, Instance inst, int port) throws Exception {
        Path hmp = root(from).resolve("ctrl/mig.monitor");
        hmp(hmp, "migrate_set_speed 1024m");
        hmp(hmp, "migrate -d tcp:" + ADDRESS + ":" + port);
        Instant started = Instant.now();
        Instant noticed;
        String status;
        while (true) {
            Thread.sleep(2000);
            status = hmp(hmp, "info migrate");
            if (status.contains("Migration status: completed")) {
                noticed = Instant.now();
                break;
            }
            if (status.contains("Migration status: failed") || status.contains("Migration status: cancelled")) {
                throw new IllegalStateException("seed-style migration failed: " + status);
            }
        }
        Matcher m = Pattern.compile("total time: (\\d+) ms").matcher(status);
        if (!m.find()) {
            throw new IllegalStateException("no total time in info migrate: " + status);
        }
        Instant completed = started.plusMillis(Long.parseLong(m.group(1)));
        // the seed then killed the source and removed its runtime files
        from.stopInstance(inst, true, Duration.ofSeconds(10));
        from.cleanupInstance(inst.name());
        return Duration.between(completed, noticed).toNanos() / 1e6;
    }

    private static String hmp(Path socket, String command) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", "echo '" + command + "' | /usr/bin/socat STDIO UNIX-CONNECT:"
                + socket).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("socat '" + command + "' failed: " + out);
        }
        return out;
    }

    // ------------------------------------------------------------------ 5. concurrent starts

    private void concurrentStarts() throws Exception {
        int count = 20;
        int threads = 4;
        progress("5/8 concurrent starts: " + count + " instances from " + threads + " threads, security_model=pool,"
                + " a bridged NIC each; then the same " + count + " one by one");
        UidPool pool = FlockUidPool.create(UidRanges.parse(poolRange), work.resolve("uid-pool"), new FlockFileLocks());
        Hypervisor a = node("conc", pool, Map.of());
        List<Instance> instances = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            instances.add(BenchGuests.guest("c" + i, guest, 32, true).hvparam("security_model", "pool")
                    .nic(new Nic(String.format("aa:00:00:00:%02x:%02x", i / 256, i % 256), null, NicMode.BRIDGED, "br0"))
                    .build());
        }
        ExecutorService ex = Executors.newFixedThreadPool(threads);
        double parallelMs;
        Set<String> uids = new HashSet<>();
        Set<String> taps = new HashSet<>();
        try {
            long t0 = System.nanoTime();
            List<Future<?>> fs = new ArrayList<>();
            for (Instance i : instances) {
                fs.add(ex.submit(() -> {
                    a.startInstance(i, true);
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            parallelMs = ms(System.nanoTime() - t0);
            for (Instance i : instances) {
                uids.add(uidOf(pid(a, i.name())));
                taps.add(Files.readString(root(a).resolve("nic").resolve(i.name()).resolve("0")).trim());
            }
            String enslaved = run("ip", "-o", "link", "show", "master", "br0");
            long onBridge = enslaved.lines().filter(l -> !l.isBlank()).count();
            if (uids.size() != count || taps.size() != count || onBridge != count) {
                throw new IllegalStateException("shared resources: " + uids.size() + " uids, " + taps.size()
                        + " taps, " + onBridge + " on br0 for " + count + " instances");
            }
            List<Future<?>> stops = new ArrayList<>();
            for (Instance i : instances) {
                stops.add(ex.submit(() -> {
                    stopQuietly(a, i.name());
                    return null;
                }));
            }
            for (Future<?> f : stops) {
                f.get();
            }
        } finally {
            ex.shutdownNow();
        }
        long t1 = System.nanoTime();
        for (Instance i : instances) {
            a.startInstance(i, true);
        }
        double sequentialMs = ms(System.nanoTime() - t1);
        for (Instance i : instances) {
            stopQuietly(a, i.name());
        }
        if (!pool.taken().isEmpty()) {
            throw new IllegalStateException("uids still taken after stopping: " + pool.taken());
        }
        rows.add(new Row(count + " starts from " + threads + " threads, `security_model=pool`, one bridged NIC each"
                        + " (paused, 32 MiB)",
                f(parallelMs) + " ms wall, " + f(count / (parallelMs / 1000)) + " starts/s; " + uids.size()
                        + " distinct uids, " + taps.size() + " distinct taps on br0",
                "the same " + count + " one by one: " + f(sequentialMs) + " ms, " + f(count / (sequentialMs / 1000))
                        + " starts/s",
                f(parallelMs / sequentialMs), "no uid or tap shared", "yes"));
    }

    private static String uidOf(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("Uid:")) {
                return line.split("\\s+")[1];
            }
        }
        throw new IOException("no Uid line in /proc/" + pid + "/status");
    }

    private static String run(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", argv) + ": " + out);
        }
        return out;
    }

    // ------------------------------------------------------------------ 6. stop noticed

    private void stopNoticed() throws Exception {
        progress("6/8 stop noticed: force stop until the driver reports the instance gone, vs QEMU's own exit");
        Hypervisor a = node("stop", null, Map.of());
        List<Double> afterExit = new ArrayList<>();
        List<Double> whole = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            Instance inst = BenchGuests.guest("sp", guest, 32, true).build();
            a.startInstance(inst, true);
            long pid = pid(a, "sp");
            long[] exitedAt = {0};
            Thread watcher = watchExit(pid, exitedAt);
            long t0 = System.nanoTime();
            a.stopInstance(Objects.requireNonNull(a.runningInstance("sp"), "sp"), true, Duration.ofSeconds(10));
            boolean gone = !a.listInstances().contains("sp");
            long t1 = System.nanoTime();
            watcher.join(10_000);
            if (!gone || exitedAt[0] == 0) {
                throw new IllegalStateException("stop returned but the instance is still listed or QEMU alive");
            }
            afterExit.add(ms(t1 - exitedAt[0]));
            whole.add(ms(t1 - t0));
            a.cleanupInstance("sp");
        }
        rows.add(new Row("force stop: QEMU exits (watched in /proc every 20 µs) → `stopInstance` returned and"
                + " `listInstances` no longer shows it", msSummary(afterExit) + " after the exit",
                "whole force stop: " + msSummary(whole), "—", "≤ 100 ms after exit",
                median(afterExit) <= 100 ? "yes" : "no"));
    }

    // ------------------------------------------------------------------ crash noticed

    private void crashNoticed() throws Exception {
        progress("crash noticed: kill -9 of QEMU until the node publishes CRASHED (its kept QMP connection closes)");
        java.util.concurrent.BlockingQueue<Long> crashes = new java.util.concurrent.LinkedBlockingQueue<>();
        Path root = work.resolve("crash");
        Files.createDirectories(root);
        Hypervisor a = org.hvkit.kvm.internal.KvmNodeFixture.node("crash", root, qemu, null, Map.of(), (topic, p) -> {
            if (topic.equals(org.hvkit.hypervisor.InstanceEvents.CRASHED)) {
                crashes.add(System.nanoTime());
            }
        });
        nodes.add(a);
        List<Double> toEvent = new ArrayList<>();
        List<Double> toExit = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            a.startInstance(BenchGuests.guest("cr", guest, 64, true).build(), true);
            long pid = pid(a, "cr");
            Thread.sleep(300); // the node's watcher holds the monitor connection by now
            long[] exitedAt = {0};
            Thread watcher = watchExit(pid, exitedAt);
            long t0 = System.nanoTime();
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            Long at = crashes.poll(10, java.util.concurrent.TimeUnit.SECONDS);
            watcher.join(10_000);
            if (at == null || exitedAt[0] == 0) {
                throw new IllegalStateException("no CRASHED event within 10 s of kill -9, or QEMU did not exit");
            }
            toEvent.add(ms(at - t0));
            toExit.add(ms(exitedAt[0] - t0));
            a.cleanupInstance("cr");
            if (!crashes.isEmpty()) {
                throw new IllegalStateException("more than one CRASHED event for one kill");
            }
        }
        rows.add(new Row("crash noticed: `kill -9` of QEMU (64 MiB guest, paused) → the node's `CRASHED` event"
                + " (its kept QMP connection closes; nothing polls)", msSummary(toEvent),
                "the process is gone (zombie or no /proc entry, watched every 20 µs): " + msSummary(toExit), "—",
                "< 20 ms", median(toEvent) < 20 ? "yes" : "no"));
    }

    // ------------------------------------------------------------------ 2. list at scale, 7. footprint

    private void listAtScaleAndFootprint() throws Exception {
        progress("2/8 list at scale: allInstancesInfo() and a statistics pass with 1, 50 and " + scale
                + " paused 32 MiB instances; then hv:list and the footprint in Karaf");
        Hypervisor a = node("list", null, Map.of());
        ExecutorService ex = Executors.newFixedThreadPool(4);
        int started = 0;
        Map<Integer, List<Double>> byCount = new LinkedHashMap<>();
        Map<Integer, Double> firstCall = new LinkedHashMap<>();
        Map<Integer, List<Double>> statsByCount = new LinkedHashMap<>();
        try {
            for (int target : new java.util.TreeSet<>(List.of(1, Math.min(50, scale), scale))) {
                BenchGuests.startPaused(ex, a, "l", started, target, guest);
                started = target;
                progress("  " + target + " instances running");
                List<Double> t = new ArrayList<>();
                for (int i = 0; i < reps + 2; i++) {
                    long t0 = System.nanoTime();
                    List<org.hvkit.hypervisor.InstanceInfo> infos = a.allInstancesInfo();
                    long t1 = System.nanoTime();
                    if (infos.size() != target) {
                        throw new IllegalStateException("allInstancesInfo saw " + infos.size() + " of " + target);
                    }
                    // the figures only count if the answers are right: every instance was started paused
                    for (org.hvkit.hypervisor.InstanceInfo info : infos) {
                        if (info.state() != org.hvkit.hypervisor.InstanceState.PAUSED || info.memoryMiB() != 32) {
                            throw new IllegalStateException("wrong answer for " + info);
                        }
                    }
                    if (i == 0) {
                        firstCall.put(target, ms(t1 - t0));
                    } else if (i >= 2) {
                        t.add(ms(t1 - t0));
                    }
                }
                byCount.put(target, t);
                listTimes.put(target, t);
                statsByCount.put(target, statisticsPasses(a, target));
            }
            for (Map.Entry<Integer, List<Double>> e : byCount.entrySet()) {
                double med = median(e.getValue());
                boolean last = e.getKey() == scale;
                rows.add(new Row("`allInstancesInfo()` with " + e.getKey() + " live (paused) instance" + (e.getKey() == 1 ? "" : "s"),
                        msSummary(e.getValue()), "per instance: " + f(med / e.getKey()) + " ms; the first call after"
                        + " the starts (one `query-status` per instance): " + f(firstCall.get(e.getKey())) + " ms", "—",
                        last ? "≤ 20 ms at " + scale : "—", last ? (med <= 20 ? "yes" : "no") : "—"));
            }
            for (Map.Entry<Integer, List<Double>> e : statsByCount.entrySet()) {
                double med = median(e.getValue());
                boolean last = e.getKey() == scale;
                rows.add(new Row("`allInstanceStatistics()` (a `hv:stats`/`hv:top` pass, 1 s apart) with " + e.getKey()
                        + " live (paused) instance" + (e.getKey() == 1 ? "" : "s"), msSummary(e.getValue()),
                        "per instance: " + f(med / e.getKey()) + " ms; block I/O from the last background refresh", "—",
                        last ? "≤ 50 ms at " + scale : "—", last ? (med <= 50 ? "yes" : "no") : "—"));
            }
            KvmNodeFixture.release(a); // Karaf's component takes the monitors over, as after a bundle update
            karaf(a, started);
        } finally {
            List<Future<?>> stops = new ArrayList<>();
            for (int i = 0; i < started; i++) {
                String name = "l" + i;
                stops.add(ex.submit(() -> {
                    stopQuietly(a, name);
                    return null;
                }));
            }
            for (Future<?> f : stops) {
                f.get();
            }
            ex.shutdownNow();
        }
    }

    /**
     * Statistics passes over {@code count} instances one second apart, as {@code hv:top} makes
     * them: the first two are warm-ups (the first waits for every QEMU's first QMP answer); the
     * answers must be complete and fresh (none stale).
     */
    private List<Double> statisticsPasses(Hypervisor a, int count) throws Exception {
        org.hvkit.hypervisor.InstanceStatistics stats = (org.hvkit.hypervisor.InstanceStatistics) a;
        List<Double> t = new ArrayList<>();
        for (int i = 0; i < reps + 2; i++) {
            if (i > 0) {
                Thread.sleep(1000);
            }
            long t0 = System.nanoTime();
            List<org.hvkit.hypervisor.InstanceStats> pass = stats.allInstanceStatistics();
            long t1 = System.nanoTime();
            if (pass.size() != count || pass.stream().anyMatch(x -> x.stale() || x.rssBytes() <= 0
                    || x.cpuTimeMillis() < 0 || x.vcpus().isEmpty())) {
                throw new IllegalStateException("statistics pass: " + pass.size() + " of " + count
                        + " answers, or a stale or incomplete one: " + pass.stream().filter(x -> x.stale()).findFirst());
            }
            if (i >= 2) {
                t.add(ms(t1 - t0));
            }
        }
        return t;
    }

    /** The Karaf distribution adopts the running instances (same root.dir); hv:list and footprint there. */
    private void karaf(Hypervisor listNode, int count) throws Exception {
        Path etc = karafHome.resolve("etc");
        Files.writeString(etc.resolve("org.hvkit.kvm-bench.cfg"), "hypervisor.node = node-bench\nroot.dir = "
                + root(listNode) + "\nkvm.path = " + qemu + "\n", StandardCharsets.UTF_8);
        Process karaf = new ProcessBuilder(karafHome.resolve("bin/karaf").toString(), "server")
                .directory(karafHome.toFile()).redirectErrorStream(true)
                .redirectOutput(karafHome.resolve("karaf.out").toFile()).start();
        try {
            Path log = karafHome.resolve("data/log/karaf.log");
            waitUntil("Karaf to boot", Duration.ofSeconds(180), () -> read(log).contains("| Done."));
            Pattern footer = Pattern.compile(count + " instances on 1 hypervisor, listed in ([0-9.]+) ms");
            double[] first = {Double.NaN};
            waitUntil("hv:list to show the adopted instances", Duration.ofSeconds(120), () -> {
                Matcher f1 = footer.matcher(client("hv:list -n node-bench"));
                if (f1.find()) {
                    first[0] = Double.parseDouble(f1.group(1));
                    return true;
                }
                return false;
            });
            StringBuilder batch = new StringBuilder();
            for (int i = 0; i < reps + 2; i++) {
                batch.append("hv:list -n node-bench\n");
            }
            String out = client(batch.toString());
            Matcher m = footer.matcher(out);
            List<Double> t = new ArrayList<>();
            int seen = 0;
            while (m.find()) {
                if (seen++ >= 2) {
                    t.add(Double.parseDouble(m.group(1)));
                }
            }
            if (t.size() != reps) {
                throw new IllegalStateException("expected " + (reps + 2) + " hv:list footers, got " + seen + ":\n" + out);
            }
            long t0 = System.nanoTime();
            client("hv:list -n node-bench");
            double ssh = ms(System.nanoTime() - t0);
            rows.add(new Row("`hv:list` in Karaf with " + count + " instances (the command's own footer: query and table)",
                    msSummary(t), "the first `hv:list` after adoption (connects to every monitor): " + f(first[0])
                            + " ms; one `bin/client hv:list` from a shell, client JVM start included: " + f(ssh) + " ms",
                    "—", "≤ 20 ms", median(t) <= 20 ? "yes" : "no"));
            long karafPid = Long.parseLong(Files.readString(karafHome.resolve("karaf.pid")).trim());
            String rss = statusField(karafPid, "VmRSS");
            String info = client("shell:info");
            String heap = line(info, "Current heap size");
            String max = line(info, "Maximum heap size");
            rows.add(new Row("footprint: Karaf 4.4 + hvkit managing " + count + " instances", "RSS " + rss + "; heap used "
                    + heap + " (max " + max + ")", "—", "—", "report", "—"));
        } finally {
            try {
                new ProcessBuilder(karafHome.resolve("bin/stop").toString()).directory(karafHome.toFile())
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                        .waitFor(60, TimeUnit.SECONDS);
            } finally {
                if (!karaf.waitFor(60, TimeUnit.SECONDS)) {
                    karaf.descendants().forEach(ProcessHandle::destroyForcibly);
                    karaf.destroyForcibly();
                }
                Files.deleteIfExists(etc.resolve("org.hvkit.kvm-bench.cfg"));
            }
        }
    }

    private static String line(String text, String key) {
        return text.lines().filter(l -> l.trim().startsWith(key)).map(l -> l.trim().substring(key.length()).trim())
                .findFirst().orElse("n/a");
    }

    private static String statusField(long pid, String key) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith(key + ":")) {
                long kb = Long.parseLong(l.replaceAll("[^0-9]", ""));
                return String.format(Locale.ROOT, "%.0f MiB", kb / 1024.0);
            }
        }
        return "n/a";
    }

    private String client(String commands) {
        try {
            Process p = new ProcessBuilder(karafHome.resolve("bin/client").toString(), "-u", "karaf", "-p", "karaf", "-b")
                    .directory(karafHome.toFile()).redirectErrorStream(true).start();
            p.getOutputStream().write(commands.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
            return out.replaceAll("\u001b\\[[0-9;]*m", "");
        } catch (IOException | InterruptedException e) {
            return "";
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void waitUntil(String what, Duration timeout, java.util.function.BooleanSupplier c)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Thread.sleep(250);
        }
    }

    // ------------------------------------------------------------------ 8. alternatives

    private void alternatives() throws IOException {
        progress("8/8 alternatives: Ganeti 3.0 (bench/ganeti_bench.py) and libvirt (bench/libvirt_bench.sh), run"
                + " before this harness on the same guest");
        compare(ganetiResults, "Ganeti", "`StartInstance`", "`GetAllInstancesInfo`", "force `StopInstance`",
                "bench/run unpacks ganeti-3.0 and runs bench/ganeti_bench.py");
        compare(libvirtResults, "libvirt", "`virsh create` (a client process per call)", "`virsh list`",
                "`virsh destroy`", "bench/run needs libvirt-daemon-system installed (bench/run --install-libvirt installs it)");
    }

    /** Rows hvkit vs an alternative, from its harness's JSON: version, start_ms, stop_ms, list_ms {n: [...]}. */
    private void compare(Path results, String who, String start, String list, String stop, String how)
            throws IOException {
        if (results == null || !Files.isRegularFile(results)) {
            rows.add(new Row(who + ": start, list, force stop", "—", "not measured: no results (" + how + ")", "—",
                    "report hvkit/" + who, "not run"));
            return;
        }
        com.fasterxml.jackson.databind.JsonNode g = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(results.toFile());
        String v = who + " " + g.path("version").asText();
        List<Double> theirStart = doubles(g.path("start_ms"));
        List<Double> theirStop = doubles(g.path("stop_ms"));
        rows.add(new Row(v + " " + start + " vs hvkit `startInstance`, the same 64 MiB guest, until the call returns",
                msSummary(startOnly), v + ": " + msSummary(theirStart), f(median(startOnly) / median(theirStart)),
                "report hvkit/" + who, "—"));
        var lists = g.path("list_ms").fields();
        while (lists.hasNext()) {
            var e = lists.next();
            int n = Integer.parseInt(e.getKey());
            List<Double> mine = listTimes.get(n);
            if (mine == null) {
                continue;
            }
            List<Double> theirs = doubles(e.getValue());
            rows.add(new Row(v + " " + list + " vs hvkit `allInstancesInfo()`, " + n + " paused instance"
                    + (n == 1 ? "" : "s"), msSummary(mine), v + ": " + msSummary(theirs),
                    f(median(mine) / median(theirs)), "report hvkit/" + who, "—"));
        }
        rows.add(new Row(v + " " + stop + " vs hvkit force `stopInstance`, the running 64 MiB guest",
                msSummary(forceStopRunning), v + ": " + msSummary(theirStop),
                f(median(forceStopRunning) / median(theirStop)), "report hvkit/" + who, "—"));
    }

    private static List<Double> doubles(com.fasterxml.jackson.databind.JsonNode array) {
        List<Double> out = new ArrayList<>();
        array.forEach(x -> out.add(x.asDouble()));
        return out;
    }

    // ------------------------------------------------------------------ cleanup

    private void cleanUp() {
        for (Hypervisor hv : nodes) {
            try {
                for (String name : hv.listInstances()) {
                    stopQuietly(hv, name);
                }
            } catch (Exception e) {
                System.err.println("[bench] listing " + hv.node() + ": " + e);
            }
        }
        for (long pid : barePids) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        try (var all = Files.walk(work)) {
            List<Path> paths = new ArrayList<>(all.toList());
            Collections.sort(paths, Comparator.reverseOrder());
            for (Path p : paths) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("[bench] removing " + work + ": " + e);
        }
    }
}
