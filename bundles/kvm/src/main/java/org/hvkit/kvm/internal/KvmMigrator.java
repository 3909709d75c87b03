package org.hvkit.kvm.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.MigrationInfo;
import org.hvkit.hypervisor.MigrationStatus;
import org.hvkit.kvm.internal.argv.KvmArgvBuilder;
import org.hvkit.kvm.internal.caps.CapabilityCache;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.migration.QmpMigration;
import org.hvkit.kvm.internal.monitor.QmpClient;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.process.QemuProcess;
import org.hvkit.kvm.internal.process.QemuProcesses;
import org.hvkit.kvm.internal.runtime.InstanceCleaner;
import org.hvkit.kvm.internal.runtime.RuntimeStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ganeti's migration protocol on the KVM driver (SPEC f.7 + k): the source hands its saved
 * runtime over, the target re-renders it for its own QEMU and paths and starts with
 * {@code -incoming}, the source migrates over QMP, the target finalizes (deferred routed NICs,
 * runtime file, {@code cont}) or is killed and cleaned up on abort.
 */
final class KvmMigrator {

    private static final Logger LOG = LoggerFactory.getLogger(KvmMigrator.class);
    /** Disk templates whose disks exist on one node only (diskless instances migrate fine). */
    private static final Set<String> NODE_LOCAL_TEMPLATES = Set.of("plain", "file");

    private final KvmHypervisor hv;
    private final KvmSettings settings;
    private final RuntimeStore store;
    private final CapabilityCache capabilities;
    private final KvmLauncher launcher;
    private final QemuProcesses processes;
    private final InstanceCleaner cleaner;
    private final Map<String, MigrationStatus> migrations = new ConcurrentHashMap<>();
    /** How long after QEMU's completed event the last migration was noticed (benchmark output). */
    volatile Duration lastNoticed;
    /** QEMU's timestamp of the last migration's {@code completed} event (null: seen by polling). */
    volatile java.time.Instant lastCompleted;

    KvmMigrator(KvmHypervisor hv, KvmSettings settings, RuntimeStore store, CapabilityCache capabilities,
                KvmLauncher launcher, QemuProcesses processes, InstanceCleaner cleaner) {
        this.hv = hv;
        this.settings = settings;
        this.store = store;
        this.capabilities = capabilities;
        this.launcher = launcher;
        this.processes = processes;
        this.cleaner = cleaner;
    }

    MigrationInfo info(Instance instance) throws HypervisorException {
        String name = instance.name();
        if (hv.alive(name).isEmpty()) {
            throw new HypervisorException("Instance " + name + " not running, cannot migrate");
        }
        return new MigrationInfo(store.load(name).orElseThrow(() -> new HypervisorException(
                "Failed to load KVM runtime file " + store.paths().runtimeFile(name) + ": missing")).text());
    }

    /** The migrated instance, its saved hvparams, and the runtime re-rendered for this node (Ganeti #1852). */
    private record Incoming(Instance instance, KvmArgvBuilder.Generated generated, QemuCapabilities caps) {
    }

    private Incoming incoming(Instance instance, MigrationInfo info) throws HypervisorException {
        RuntimeStore.Saved saved = RuntimeStore.parse(info.data(), "migration info of " + instance.name());
        Instance def = saved.instance().orElse(instance).withHvparams(saved.runtime().hvparams());
        def = def.toBuilder().primaryNode(settings.node()).build();
        QemuCapabilities caps = capabilities.of(settings.kvmPath());
        return new Incoming(def, launcher.builder().generate(def, new LinkedHashMap<>(saved.runtime().hvparams()), caps),
                caps);
    }

    void accept(Instance instance, MigrationInfo info, String targetAddress) throws HypervisorException {
        String name = instance.name();
        if (hv.alive(name).isPresent()) {
            throw new HypervisorException("Can't accept instance " + name + ", already running");
        }
        Incoming in = incoming(instance, info);
        try {
            launcher.execute(in.instance(), in.generated().runtime(), hv.filled(in.instance()), in.caps(), hv.uidPool(),
                    targetAddress, true);
        } catch (HypervisorException | RuntimeException e) {
            hv.cleanQuietly(name);
            throw e;
        }
    }

    void migrate(Instance instance, String targetAddress, boolean live) throws HypervisorException {
        String name = instance.name();
        QemuProcess p = hv.alive(name).orElseThrow(() -> new HypervisorException("Instance " + name
                + " not running, cannot migrate"));
        Map<String, Object> params = store.load(name).map(s -> (Map<String, Object>) new LinkedHashMap<>(
                s.runtime().hvparams())).orElse(hv.filled(instance));
        if (live && NODE_LOCAL_TEMPLATES.contains(instance.diskTemplate()) && !instance.disks().isEmpty()) {
            throw new HypervisorException("Refusing to live-migrate " + name + ": its " + instance.diskTemplate()
                    + " disks are local to this node (SPEC k); use a shared or replicated disk template");
        }
        long port = ((Number) params.getOrDefault(KvmParameters.MIGRATION_PORT, 8102L)).longValue();
        long bandwidth = ((Number) params.getOrDefault(KvmParameters.MIGRATION_BANDWIDTH, 32L)).longValue();
        long downtime = ((Number) params.getOrDefault(KvmParameters.MIGRATION_DOWNTIME, 30L)).longValue();
        migrations.put(name, new MigrationStatus(MigrationStatus.State.SETUP, 0, 0, 0));
        try {
            hv.onMonitor(name, p.pid(), qmp -> {
                migrateOn(qmp, name, targetAddress, port, live, bandwidth, downtime);
                return null;
            });
        } catch (HypervisorException e) {
            migrations.put(name, new MigrationStatus(MigrationStatus.State.FAILED, 0, 0, 0));
            throw e;
        }
        // the target runs the guest now: this node's QEMU and files go, its uid is released
        hv.monitors().forget(name);
        processes.kill(p.pid(), Duration.ofSeconds(10));
        cleaner.removeAll(name, hv.uidPool());
        LOG.info("Instance {} migrated to {}", name, targetAddress);
    }

    private void migrateOn(QmpClient qmp, String name, String targetAddress, long port, boolean live, long bandwidth,
                           long downtime) throws HypervisorException {
        java.time.Instant completed = QmpMigration.run(qmp, name, targetAddress, port, live, bandwidth, downtime,
                settings.migrationTimeout(), st -> migrations.put(name, st));
        Duration noticed = completed == null ? null : Duration.between(completed, java.time.Instant.now());
        lastCompleted = completed;
        lastNoticed = noticed;
        if (noticed != null) {
            LOG.info("Migration of {} completed; noticed {} us after QEMU's completed event", name,
                    noticed.toNanos() / 1000);
        }
        // the completed event can precede query-migrate's own switch to "completed"
        MigrationStatus last = QmpMigration.status(qmp);
        migrations.put(name, new MigrationStatus(MigrationStatus.State.COMPLETED, last.transferred(), 0,
                last.total()));
    }

    MigrationStatus status(Instance instance) {
        String name = instance.name();
        MigrationStatus current = migrations.get(name);
        if (current != null && !current.status().isFinal()) {
            // a migration holds the monitor (QEMU serves one QMP client): report what it last saw
            return current;
        }
        MigrationStatus known = current != null ? current : new MigrationStatus(MigrationStatus.State.NONE, 0, 0, 0);
        java.util.concurrent.locks.ReentrantLock lock = hv.monitors().lock(name);
        java.util.Optional<QemuProcess> p = hv.alive(name);
        if (current == null && p.isPresent() && lock.tryLock()) {
            try {
                return hv.onMonitor(name, p.get().pid(), QmpMigration::status);
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
        if (!success) {
            // SPEC k.3: an aborted target is killed and cleaned up, not left half there
            hv.stopInstanceByName(name);
            cleaner.removeAll(name, hv.uidPool());
            return;
        }
        if (hv.alive(name).isEmpty()) {
            throw new HypervisorException("Failed to finalize the migration of " + name + ": not running here");
        }
        Incoming in = incoming(instance, info);
        List<org.hvkit.hypervisor.Nic> nics = in.generated().runtime().nics();
        for (int i = 0; i < nics.size(); i++) {
            if (nics.get(i).mode() == org.hvkit.hypervisor.NicMode.ROUTED) {
                try {
                    String tap = Files.readString(store.paths().nicDir(name).resolve(Integer.toString(i))).trim();
                    launcher.configureNic(in.instance(), i, nics.get(i), tap);
                } catch (IOException | HypervisorException e) {
                    LOG.warn("Failed to find or configure the host interface for {} NIC #{}: {}", name, i, e.getMessage());
                }
            }
        }
        store.save(name, in.generated().runtime(), in.instance());
        long pid = hv.alive(name).orElseThrow(() -> new HypervisorException("Failed to finalize the migration of "
                + name + ": QEMU exited")).pid();
        hv.onMonitor(name, pid, qmp -> {
            if (!"running".equals(qmp.execute("query-status", Map.of()).path("status").asText())) {
                qmp.execute("cont", Map.of());
            }
            return null;
        });
    }
}
