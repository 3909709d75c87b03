package org.hvkit.hypervisor;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Ganeti's migration sequence between two {@link Hypervisor}s of one type, as one reusable
 * piece (Ganeti's {@code LUInstanceMigrate} drives it from the master; the shell's
 * {@code hv:migrate} and any cluster framework use this): {@code migrationInfo} on the source,
 * {@code acceptInstance} on the target, {@code migrateInstance} on the source while its
 * {@code migrationStatus} is reported every {@link #PROGRESS_INTERVAL}, then
 * {@code finalizeMigration} on the target — with {@code success=false} after any failure, so the
 * target never keeps half an instance and the instance stays on its source. The migration's
 * own error is what is thrown; an abort that fails as well is attached as suppressed. Since 1.2.
 */
public final class MigrationCoordinator {

    /** How often a running migration's progress is reported. */
    public static final Duration PROGRESS_INTERVAL = Duration.ofMillis(500);

    private MigrationCoordinator() {
    }

    /** What a caller hears of a running migration. */
    @FunctionalInterface
    public interface Listener {
        /** The target accepted the instance; the transfer starts. */
        default void accepted() {
        }

        /** The source's status while the migration runs (on another thread). */
        void status(MigrationStatus status);
    }

    /**
     * Migrates {@code instance} (the definition its source runs it with, see
     * {@link Hypervisor#runningInstance}) from {@code source} to {@code target}, whose migration
     * endpoint is {@code targetAddress} (its {@value Hypervisor#ADDRESS_PROPERTY} service
     * property). Returns when the target runs it.
     *
     * @param progress hears of the acceptance and the source's status while the migration runs
     * @throws HypervisorException the migration's own error; the instance runs on its source
     */
    public static void migrate(Hypervisor source, Hypervisor target, Instance instance, String targetAddress,
                               boolean live, Listener progress) throws HypervisorException {
        Objects.requireNonNull(progress, "progress");
        if (!source.canMigrate()) {
            throw new HypervisorException("Hypervisor " + source.type() + "@" + source.node() + " cannot migrate");
        }
        MigrationInfo info = source.migrationInfo(instance);
        target.acceptInstance(instance, info, targetAddress);
        progress.accepted();
        try {
            runWithProgress(source, instance, targetAddress, live, progress);
        } catch (HypervisorException | RuntimeException failure) {
            try {
                target.finalizeMigration(instance, info, false);
            } catch (HypervisorException | RuntimeException abort) {
                failure.addSuppressed(abort);
            }
            throw failure;
        }
        target.finalizeMigration(instance, info.withSourceStatus(finalStatus(source, instance)), true);
    }

    /** How long the target's finalize waits for the source's figures: the guest is paused until it runs. */
    static final Duration FINAL_STATUS_WAIT = Duration.ofSeconds(1);

    /**
     * The source's status of the migration that has just completed, for the target's figures
     * ({@link MigrationInfo#sourceStatus}); null when the source cannot tell within
     * {@link #FINAL_STATUS_WAIT} (a local source answers from memory, a remote one in a round
     * trip). Never fails the migration: the guest is on the target already.
     */
    private static MigrationStatus finalStatus(Hypervisor source, Instance instance) {
        java.util.concurrent.CompletableFuture<MigrationStatus> asked = new java.util.concurrent.CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                asked.complete(source.migrationStatus(instance));
            } catch (HypervisorException | RuntimeException e) {
                asked.complete(null);
            }
        }, "hvkit-migrate-figures-" + instance.name());
        t.setDaemon(true);
        t.start();
        try {
            MigrationStatus s = asked.get(FINAL_STATUS_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            return s != null && s.status() == MigrationStatus.State.COMPLETED ? s : null;
        } catch (TimeoutException | ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static void runWithProgress(Hypervisor source, Instance instance, String address, boolean live,
                                        Listener progress) throws HypervisorException {
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "hvkit-migrate-" + instance.name());
            t.setDaemon(true);
            return t;
        });
        try {
            Future<Void> migration = worker.submit(() -> {
                source.migrateInstance(instance, address, live);
                return null;
            });
            while (true) {
                try {
                    migration.get(PROGRESS_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
                    return;
                } catch (TimeoutException stillRunning) {
                    progress.status(source.migrationStatus(instance));
                }
            }
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof HypervisorException) {
                throw (HypervisorException) cause;
            }
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            throw new HypervisorException("Migration of " + instance.name() + " failed: " + cause, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HypervisorException("Interrupted while migrating " + instance.name()
                    + "; the migration may still be running", e);
        } finally {
            worker.shutdownNow();
        }
    }
}
