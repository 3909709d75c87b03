package org.hvkit.bench;

import static org.hvkit.bench.Stats.f;
import static org.hvkit.bench.Stats.median;
import static org.hvkit.bench.Stats.ms;
import static org.hvkit.bench.Stats.msSummary;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.MigrationCoordinator;
import org.hvkit.remote.internal.BenchEndpoint;

/**
 * Issue #16's rows: the same calls on a node's {@link Hypervisor} made locally and through the
 * remote path another host uses — the facade behind Aries RSA 1.16.1's fastbin endpoint, its proxy,
 * the deserialization allow-list ({@link BenchEndpoint}) — alternating, in one run:
 * {@code allInstancesInfo} with {@code scale} paused instances (the #17 way of making many
 * instances cheaply), a start of the real test guest, and a live migration of the test guest
 * driven by {@link MigrationCoordinator} (as {@code hv:migrate} on another host drives it) with
 * the source reached remotely. One machine, loopback: the figures are the transport's cost
 * (serialization, a pooled connection), not a network's; the host-to-host migration over a
 * veth between two Karafs is measured by the two-host proof (docs/multi-host.md).
 */
final class RemoteCalls {

    private static final long TIMEOUT_MILLIS = 900_000;

    private final Path guestDir;
    private final String address;
    private final int reps;
    private final int scale;
    private final List<EndToEnd.Row> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    RemoteCalls(Path guestDir, String address, int reps, int scale) {
        this.guestDir = guestDir;
        this.address = address;
        this.reps = reps;
        this.scale = scale;
    }

    List<EndToEnd.Row> rows() {
        return rows;
    }

    List<String> notes() {
        return notes;
    }

    /** {@code list}: the node with the instances; {@code a}, {@code b}: two nodes for the start and the migration. */
    void run(Hypervisor list, Hypervisor a, Path rootA, Hypervisor b, Path rootB) throws Exception {
        try (BenchEndpoint el = BenchEndpoint.export(list, address, TIMEOUT_MILLIS);
             BenchEndpoint ea = BenchEndpoint.export(a, address, TIMEOUT_MILLIS);
             BenchEndpoint eb = BenchEndpoint.export(b, address, TIMEOUT_MILLIS)) {
            notes.add("Remote rows: each node exported as in Karaf (facade, Aries RSA 1.16.1 fastbin endpoint, "
                    + "allow-list) at " + el.id().replaceAll(":[0-9]+$", "") + ", called through the provider's proxy"
                    + " in the same JVM (loopback); ZooKeeper is not on a call's path.");
            listAtScale(list, el.remote());
            start(a, ea.remote());
            migration(new Hypervisor[] {a, b}, new Hypervisor[] {ea.remote(), eb.remote()}, new Path[] {rootA, rootB});
        }
    }

    private void listAtScale(Hypervisor local, Hypervisor remote) throws Exception {
        EndToEnd.progress("remote 1/3: allInstancesInfo with " + scale + " paused 32 MiB instances, local vs remote");
        ExecutorService ex = Executors.newFixedThreadPool(4);
        List<Double> loc = new ArrayList<>();
        List<Double> rem = new ArrayList<>();
        try {
            BenchGuests.startPaused(ex, local, "r", 0, scale, guestDir);
            for (int i = 0; i < reps + 2; i++) {
                long t0 = System.nanoTime();
                check(local.allInstancesInfo());
                long t1 = System.nanoTime();
                check(remote.allInstancesInfo());
                long t2 = System.nanoTime();
                if (i >= 2) { // two warm-up pairs (class loading, the first connections)
                    loc.add(ms(t1 - t0));
                    rem.add(ms(t2 - t1));
                }
            }
        } finally {
            List<Future<?>> fs = new ArrayList<>();
            for (String name : local.listInstances()) {
                fs.add(ex.submit(() -> {
                    EndToEnd.stopQuietly(local, name);
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            ex.shutdown();
        }
        rows.add(new EndToEnd.Row("`allInstancesInfo` of a node with " + scale + " paused 32 MiB instances, called"
                + " from another host (remote: facade + Aries RSA fastbin, loopback)", msSummary(rem),
                "the same call locally: " + msSummary(loc), f(median(rem) / median(loc)), "—", "—"));
    }

    /** The answer only counts if it is right: every instance, paused, 32 MiB. */
    private void check(List<InstanceInfo> infos) {
        if (infos.size() != scale) {
            throw new IllegalStateException("allInstancesInfo saw " + infos.size() + " of " + scale);
        }
        for (InstanceInfo info : infos) {
            if (info.state() != InstanceState.PAUSED || info.memoryMiB() != 32) {
                throw new IllegalStateException("wrong answer for " + info);
            }
        }
    }

    private void start(Hypervisor local, Hypervisor remote) throws Exception {
        EndToEnd.progress("remote 2/3: start of the test guest (64 MiB, TCG), local vs remote, " + reps + " reps each");
        Instance inst = BenchGuests.guest("rst", guestDir, 64, false).build();
        List<Double> loc = new ArrayList<>();
        List<Double> rem = new ArrayList<>();
        for (int i = 0; i < reps + 1; i++) {
            for (Hypervisor via : new Hypervisor[] {local, remote}) {
                long t0 = System.nanoTime();
                via.startInstance(inst, false);
                InstanceInfo info = via.instanceInfo("rst");
                long t1 = System.nanoTime();
                if (info == null || info.state() != InstanceState.RUNNING) {
                    throw new IllegalStateException("started, but not running: " + info);
                }
                local.stopInstance(Objects.requireNonNull(local.runningInstance("rst"), "rst"), true,
                        Duration.ofSeconds(10));
                local.cleanupInstance("rst");
                if (i > 0) { // the first pair warms caches
                    (via == local ? loc : rem).add(ms(t1 - t0));
                }
            }
        }
        rows.add(new EndToEnd.Row("start of the test guest (64 MiB, TCG) from another host: `startInstance` +"
                + " `instanceInfo` (remote, loopback)", msSummary(rem), "the same calls locally: " + msSummary(loc),
                f(median(rem) / median(loc)), "—", "—"));
    }

    /** n[0] and n[1] the nodes, r[] their remote proxies: there remotely (source reached remotely), back locally. */
    private void migration(Hypervisor[] n, Hypervisor[] r, Path[] roots) throws Exception {
        int m = Math.max(3, Math.min(reps, 5));
        EndToEnd.progress("remote 3/3: live migration of the booted test guest (128 MiB), source local vs remote, "
                + m + " each");
        n[0].startInstance(BenchGuests.guest("rmig", guestDir, 128, false).build(), false);
        try {
            awaitHeartbeat(roots[0].resolve("ctrl/rmig.serial.log"));
            List<Double> loc = new ArrayList<>();
            List<Double> rem = new ArrayList<>();
            for (int i = 0; i < m; i++) {
                rem.add(migrate(r[0], n[1], n[0]));
                loc.add(migrate(n[1], n[0], n[1]));
            }
            rows.add(new EndToEnd.Row("live migration of the booted test guest (128 MiB, TCG, 1000 MiB/s) by"
                    + " `MigrationCoordinator` with the source on another host (remote calls, loopback stream)",
                    msSummary(rem), "both nodes local: " + msSummary(loc), f(median(rem) / median(loc)), "—", "—"));
        } finally {
            EndToEnd.stopQuietly(n[0], "rmig");
            EndToEnd.stopQuietly(n[1], "rmig");
        }
    }

    private double migrate(Hypervisor source, Hypervisor target, Hypervisor sourceLocal) throws Exception {
        Instance inst = Objects.requireNonNull(sourceLocal.runningInstance("rmig"), "rmig");
        long t0 = System.nanoTime();
        MigrationCoordinator.migrate(source, target, inst, address, true, status -> { });
        long t1 = System.nanoTime();
        if (target.instanceInfo("rmig") == null || sourceLocal.instanceInfo("rmig") != null) {
            throw new IllegalStateException("the guest is not (only) on the target after the migration");
        }
        return ms(t1 - t0);
    }

    private static void awaitHeartbeat(Path serialLog) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(serialLog) && Files.readString(serialLog).contains("HEARTBEAT")) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the test guest printed no HEARTBEAT within 120 s (" + serialLog + ")");
    }
}
