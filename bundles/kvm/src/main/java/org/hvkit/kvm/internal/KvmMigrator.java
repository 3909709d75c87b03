package org.hvkit.kvm.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceStats;
import org.hvkit.hypervisor.MigrationInfo;
import org.hvkit.hypervisor.MigrationStatus;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.kvm.internal.argv.KvmArgvBuilder;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.migration.MigrationCapabilities;
import org.hvkit.kvm.internal.migration.QmpMigration;
import org.hvkit.kvm.internal.monitor.QmpClient;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.process.QemuProcess;
import org.hvkit.kvm.internal.runtime.RuntimeStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ganeti's migration protocol on the KVM driver: the source hands its saved runtime over, the
 * target re-renders it for its own QEMU and paths and starts with {@code -incoming}, the source
 * migrates over QMP, the target finalizes (deferred routed NICs, runtime file, {@code cont}) or
 * is killed and cleaned up on abort. Each step runs under the instance's lock on its node; it
 * uses the lifecycle core only, never the DS facade.
 */
final class KvmMigrator {

    private static final Logger LOG = LoggerFactory.getLogger(KvmMigrator.class);
    /** Disk templates whose disks exist on one node only (diskless instances migrate fine). */
    private static final Set<String> NODE_LOCAL_TEMPLATES = Set.of("plain", "file");

    private final KvmInstances core;
    private final KvmSettings settings;
    /** The last status of each instance's migration from this node, kept after it ended (its figures). */
    private final Map<String, MigrationStatus> migrations = new ConcurrentHashMap<>();
    /** When each instance accepted here was accepted (System.nanoTime), until its finalize. */
    private final Map<String, Long> accepted = new ConcurrentHashMap<>();
    /** The last migration of each instance, for the QEMU process it concerns (statistics, issue #17). */
    private final Map<String, Recorded> last = new ConcurrentHashMap<>();

    /** A last migration and the pid of the QEMU that runs the instance after it. */
    private record Recorded(long pid, InstanceStats.LastMigration migration) {
    }

    KvmMigrator(KvmInstances core, KvmSettings settings) {
        this.core = core;
        this.settings = settings;
    }

    MigrationInfo info(Instance instance) throws HypervisorException {
        String name = instance.name();
        if (core.alive(name).isEmpty()) {
            throw new HypervisorException("Instance " + name + " not running, cannot migrate");
        }
        return new MigrationInfo(core.store().load(name).orElseThrow(() -> new HypervisorException(
                "Failed to load KVM runtime file " + core.paths().runtimeFile(name) + ": missing")).text());
    }

    /** The migrated instance, its saved hvparams, and the runtime re-rendered for this node (Ganeti #1852). */
    record Incoming(Instance instance, KvmArgvBuilder.Generated generated, QemuCapabilities caps) {
    }

    private Incoming incoming(Instance instance, MigrationInfo info) throws HypervisorException {
        // the source's kvm_path must be a binary this node allows too; its capabilities render the target
        Map<String, Object> sourceHv = RuntimeStore.parse(info.data(), "migration info of " + instance.name())
                .runtime().hvparams();
        QemuCapabilities caps = core.capabilities().of(core.launcher().builder().binary(sourceHv));
        return incoming(core.launcher().builder(), instance, info, settings.node(), caps);
    }

    /**
     * The target's runtime for a source's migration info: the saved instance and hvparams
     * re-rendered for this node's QEMU and paths, in the source's device layout — the guest keeps
     * its PCI addresses (or the legacy placement of a runtime an older hvkit wrote).
     */
    static Incoming incoming(KvmArgvBuilder builder, Instance instance, MigrationInfo info, String node,
                             QemuCapabilities caps) throws HypervisorException {
        RuntimeStore.Saved saved = RuntimeStore.parse(info.data(), "migration info of " + instance.name());
        Instance def = saved.instance().orElse(instance).withHvparams(saved.runtime().hvparams());
        if (!def.name().equals(instance.name())) {
            throw new HypervisorException("Migration info names instance " + def.name() + ", not " + instance.name());
        }
        def = def.toBuilder().primaryNode(node).build();
        return new Incoming(def, builder.generate(def, new LinkedHashMap<>(saved.runtime().hvparams()), caps,
                saved.runtime().layout()), caps);
    }

    /**
     * The source's {@code kvm_extra} (in the runtime it sends, filled there) is this node's own
     * default, unless the node allows an instance's own ({@code kvm_extra.from.instances}): raw
     * QEMU arguments would otherwise reach this node's QEMU unchecked.
     */
    private void incomingKvmExtra(Incoming in, String name) throws HypervisorException {
        StartChecks.kvmExtra(in.generated().runtime().hvparams(), settings.hvparamDefaults(),
                settings.kvmExtraFromInstances(), "Can't accept instance " + name + ": ");
    }

    /** The parameter checks of a start ({@code checkParameterSyntax}, then {@code validateParameters}). */
    @FunctionalInterface
    interface ParameterCheck {
        void check(Map<String, Object> hvparams) throws HypervisorException;
    }

    /**
     * Ganeti's {@code AcceptInstance}. What is launched is the definition and the hvparams the
     * source's migration info carries (they are the running guest's), so that is what gets a
     * start's checks — parameters, disks, media — not only the {@code instance} argument: a
     * migration info naming other disks or other parameters would otherwise have QEMU open
     * them as root unchecked. An {@code instance} that lists disks must list the same ones.
     */
    void accept(Instance instance, MigrationInfo info, String targetAddress, ParameterCheck parameters)
            throws HypervisorException {
        String name = instance.name();
        String fail = "Can't accept instance " + name + ": ";
        try (KvmInstances.Operation op = core.begin(name, "accept migration")) {
            if (core.alive(name).isPresent()) {
                throw new HypervisorException("Can't accept instance " + name + ", already running");
            }
            core.reclaim(name);
            Incoming in = incoming(instance, info);
            List<String> given = instance.disks().stream().map(org.hvkit.hypervisor.Disk::devPath).toList();
            List<String> carried = in.instance().disks().stream().map(org.hvkit.hypervisor.Disk::devPath).toList();
            if (!given.isEmpty() && !given.equals(carried)) {
                throw new HypervisorException(fail + "the migration info's disks " + carried
                        + " are not the instance's " + given);
            }
            Map<String, Object> hv = core.filled(in.instance());
            try {
                parameters.check(hv);
            } catch (HypervisorException e) {
                throw new HypervisorException(fail + "the migration info's parameters: " + e.getMessage(), e);
            }
            Map<String, Instance> running = core.states().runningDefinitions(name);
            StartChecks.macsUnused(in.instance(), fail, running);
            // the source's disks are this node's too (shared storage): the same host-use rule as a start
            var disks = core.diskChecks().check(in.instance(), hv, core.paths().root(), settings.hostDisks(), fail,
                    running);
            incomingKvmExtra(in, name);
            try {
                long pid = core.launcher().execute(in.instance(), in.generated().runtime(), hv, in.caps(),
                        core.uidPool(), targetAddress, true);
                core.diskChecks().keep(name, pid, in.instance().disks(), disks);
                // Ganeti 3.0 sets migration_caps on the target too (post-copy needs them on both sides)
                List<String> caps = capabilities(in.generated().runtime().hvparams());
                Map<String, Object> tuning = settings.migrationTuning().targetParameters(caps);
                if (!caps.isEmpty()) {
                    core.onMonitor(name, pid, qmp -> {
                        if (!tuning.isEmpty()) {
                            // the target waits for as many multifd streams as the source opens
                            qmp.execute("migrate-set-parameters", tuning);
                        }
                        MigrationCapabilities.set(qmp, caps, true, Map.of());
                        return null;
                    });
                }
                accepted.put(name, System.nanoTime());
                forgetGone();
            } catch (HypervisorException | RuntimeException e) {
                // a step after the launch failed (the capabilities): its QEMU goes with everything else
                try {
                    core.kill(name);
                } catch (HypervisorException k) {
                    e.addSuppressed(k);
                }
                if (core.removeQuietly(name)) {
                    op.removeLockFile();
                }
                throw e;
            }
        }
    }

    void migrate(Instance instance, String targetAddress, boolean live) throws HypervisorException {
        String name = instance.name();
        try (KvmInstances.Operation op = core.begin(name, "migrate")) {
            QemuProcess p = core.alive(name).orElseThrow(() -> new HypervisorException("Instance " + name
                    + " not running, cannot migrate"));
            Map<String, Object> params = core.store().load(name).map(s -> (Map<String, Object>) new LinkedHashMap<>(
                    s.runtime().hvparams())).orElse(core.filled(instance));
            if (live && NODE_LOCAL_TEMPLATES.contains(instance.diskTemplate()) && !instance.disks().isEmpty()) {
                throw new HypervisorException("Refusing to live-migrate " + name + ": its " + instance.diskTemplate()
                        + " disks are local to this node; use a shared or replicated disk template");
            }
            long port = ((Number) params.getOrDefault(KvmParameters.MIGRATION_PORT, 8102L)).longValue();
            long bandwidth = ((Number) params.getOrDefault(KvmParameters.MIGRATION_BANDWIDTH, 32L)).longValue();
            long downtime = ((Number) params.getOrDefault(KvmParameters.MIGRATION_DOWNTIME, 30L)).longValue();
            migrations.put(name, new MigrationStatus(MigrationStatus.State.SETUP, 0, 0, 0));
            core.events().migrating(name, p.pid(), true);
            long started = System.nanoTime();
            try {
                core.onMonitor(name, p.pid(), qmp -> {
                    migrateOn(qmp, name, p.pid(), targetAddress, port, live, bandwidth, downtime,
                            capabilities(params));
                    return null;
                });
            } catch (HypervisorException e) {
                MigrationStatus seen = migrations.get(name);
                migrations.put(name, new MigrationStatus(MigrationStatus.State.FAILED, 0, 0, 0));
                // the guest runs on here: its statistics tell of the attempt (what QEMU had sent by then)
                forgetGone();
                last.put(name, new Recorded(p.pid(), new InstanceStats.LastMigration(false,
                        seen != null && seen.status() == MigrationStatus.State.CANCELLED
                                ? MigrationStatus.State.CANCELLED : MigrationStatus.State.FAILED,
                        System.currentTimeMillis(), millisSince(started), InstanceStats.UNKNOWN,
                        seen != null && seen.transferred() > 0 ? seen.transferred() : InstanceStats.UNKNOWN)));
                core.events().migrationFailed(name, p.pid(), targetAddress, e.getMessage());
                throw e;
            }
            last.remove(name); // the process it concerned is going
            // the target runs the guest now: this node's QEMU and files go, its uid is released
            core.events().migrationCompleted(name, p.pid(), targetAddress, migrations.get(name));
            core.events().ending(name, p.pid(), org.hvkit.kvm.internal.events.LifecycleEvents.SILENT);
            core.monitors().forget(name);
            core.processes().kill(p.pid(), Duration.ofSeconds(10));
            core.events().ended(name, p.pid(), org.hvkit.kvm.internal.events.LifecycleEvents.SILENT);
            core.cleaner().removeAll(name, core.uidPool(), core.states().vncDirectory(name));
            op.removeLockFile();
            LOG.info("Instance {} migrated to {}", name, targetAddress);
        }
    }

    /** The instance's {@code migration_caps} (Ganeti 3.0), from the parameters it runs with. */
    private static List<String> capabilities(Map<String, Object> hvparams) {
        Object v = hvparams.get(KvmParameters.MIGRATION_CAPS);
        return MigrationCapabilities.parse(v == null ? "" : v.toString());
    }

    private void migrateOn(QmpClient qmp, String name, long pid, String targetAddress, long port, boolean live,
                           long bandwidth, long downtime, List<String> caps) throws HypervisorException {
        Instant completed = QmpMigration.run(qmp, name, targetAddress, port, live, bandwidth, downtime, caps,
                settings.migrationTuning(), settings.migrationTimeout(), st -> {
                    migrations.put(name, st);
                    core.events().migrationProgress(name, pid, targetAddress, st);
                },
                () -> core.closing() ? "the KVM hypervisor of node " + settings.node() + " is stopping" : null);
        Duration noticed = completed == null ? null : Duration.between(completed, Instant.now());
        // the completed event can precede query-migrate's own switch to "completed"
        MigrationStatus last = QmpMigration.status(qmp);
        migrations.put(name, last.completed(last.downtimeMillis(), completed));
        LOG.info("Migration of {} completed: {} MiB transferred, downtime {}, {}", name, last.transferred() >> 20,
                last.downtimeMillis() < 0 ? "unknown" : last.downtimeMillis() + " ms", noticed == null
                        ? "seen by query-migrate" : "noticed " + noticed.toNanos() / 1000 + " us after QEMU's event");
    }

    MigrationStatus status(Instance instance) {
        String name = instance.name();
        MigrationStatus current = migrations.get(name);
        if (current != null && !current.status().isFinal()) {
            // a migration holds the monitor (QEMU serves one QMP client): report what it last saw
            return current;
        }
        MigrationStatus known = current != null ? current : new MigrationStatus(MigrationStatus.State.NONE, 0, 0, 0);
        ReentrantLock lock = core.monitors().lock(name);
        Optional<QemuProcess> p = core.alive(name);
        if (current == null && p.isPresent() && lock.tryLock()) {
            try {
                return core.onMonitor(name, p.get().pid(), QmpMigration::status);
            } catch (HypervisorException e) {
                // the process is going away (e.g. right after a migration)
                LOG.debug("query-migrate on {}: {}", name, e.getMessage());
            } finally {
                lock.unlock();
            }
        }
        return known;
    }

    void finalize(Instance instance, MigrationInfo info, boolean success) throws HypervisorException {
        String name = instance.name();
        Long acceptedAt = accepted.remove(name);
        if (!success) {
            // an aborted target is killed and cleaned up, not left half there (Ganeti's FinalizeMigrationDst)
            core.kill(name);
            core.cleanup(name);
            return;
        }
        try (KvmInstances.Operation op = core.begin(name, "finalize migration")) {
            if (core.alive(name).isEmpty()) {
                throw new HypervisorException("Failed to finalize the migration of " + name + ": not running here");
            }
            Incoming in = incoming(instance, info);
            configureDeferredNics(name, in);
            core.store().save(name, in.generated().runtime(), in.instance());
            long pid = core.alive(name).orElseThrow(() -> new HypervisorException("Failed to finalize the migration of "
                    + name + ": QEMU exited")).pid();
            core.onMonitor(name, pid, qmp -> {
                if (!"running".equals(qmp.execute("query-status", Map.of()).path("status").asText())) {
                    qmp.execute("cont", Map.of());
                }
                return null;
            });
            core.events().started(name, pid, in.generated().runtime().argv().contains("-no-shutdown"),
                    org.hvkit.hypervisor.InstanceEvents.REASON_MIGRATION);
            forgetGone();
            last.put(name, new Recorded(pid, arrived(info.sourceStatus(),
                    acceptedAt == null ? InstanceStats.UNKNOWN : millisSince(acceptedAt))));
        }
    }

    /**
     * The figures of a migration that ended here: how long this node took from accepting to
     * running the guest, with the downtime and the bytes its source reported (unknown without).
     */
    static InstanceStats.LastMigration arrived(MigrationStatus source, long durationMillis) {
        boolean told = source != null && source.status() == MigrationStatus.State.COMPLETED;
        return new InstanceStats.LastMigration(true, MigrationStatus.State.COMPLETED, System.currentTimeMillis(),
                durationMillis, told ? Math.max(InstanceStats.UNKNOWN, source.downtimeMillis()) : InstanceStats.UNKNOWN,
                told && source.transferred() >= 0 ? source.transferred() : InstanceStats.UNKNOWN);
    }

    /**
     * The last migration this node saw for {@code name}, when it concerns the QEMU process
     * {@code pid} (a restarted instance has none); null otherwise.
     */
    InstanceStats.LastMigration lastMigration(String name, long pid) {
        Recorded r = last.get(name);
        if (r == null) {
            return null;
        }
        if (r.pid() != pid) {
            last.remove(name, r); // another process runs the instance now
            return null;
        }
        return r.migration();
    }

    /**
     * Drops what concerns instances no longer running here (stopped, migrated away, never
     * finalized): the maps hold running instances only.
     */
    private void forgetGone() {
        last.entrySet().removeIf(e -> core.alive(e.getKey()).map(p -> p.pid() != e.getValue().pid()).orElse(true));
        accepted.keySet().removeIf(n -> core.alive(n).isEmpty());
    }

    private static long millisSince(long nanoTime) {
        return Math.max(0, (System.nanoTime() - nanoTime) / 1_000_000);
    }

    /** Routed NICs wait for finalize on a target, so that a route never exists on two nodes. */
    private void configureDeferredNics(String name, Incoming in) {
        List<Nic> nics = in.generated().runtime().nics();
        for (int i = 0; i < nics.size(); i++) {
            if (nics.get(i).mode() == NicMode.ROUTED) {
                try {
                    core.launcher().configureNic(in.instance(), i, nics.get(i), core.store().tap(name, i));
                } catch (HypervisorException e) {
                    LOG.warn("Failed to find or configure the host interface for {} NIC #{}: {}", name, i,
                            e.getMessage());
                }
            }
        }
    }
}
