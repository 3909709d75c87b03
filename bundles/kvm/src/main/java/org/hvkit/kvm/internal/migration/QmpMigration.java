package org.hvkit.kvm.internal.migration;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.MigrationStatus;
import org.hvkit.kvm.internal.monitor.QmpClient;
import org.hvkit.kvm.internal.monitor.QmpException;

/**
 * The source side of a migration over QMP (Ganeti 3.x's {@code MigrateInstance};
 * docs/ganeti-behaviour.md, "Migration"): optional {@code stop},
 * {@code migrate-set-parameters} (bandwidth in bytes/s, downtime in ms), {@code migrate}, then
 * waiting on {@code MIGRATION} events with {@code query-migrate} as the fallback, under an
 * overall timeout, cancelled when the caller says so (the component is stopping). Every failure
 * resumes a non-live source and carries QEMU's own error text.
 */
public final class QmpMigration {

    /** The states after which a migration is over. */
    private static final java.util.Set<String> FINAL = java.util.Set.of("completed", "failed", "cancelled");

    private QmpMigration() {
    }

    /** {@code query-migrate} as a {@link MigrationStatus}. */
    public static MigrationStatus status(QmpClient qmp) throws QmpException {
        JsonNode r = qmp.execute("query-migrate", Map.of());
        String s = r.path("status").asText("none");
        MigrationStatus.State state;
        switch (s) {
            case "setup": state = MigrationStatus.State.SETUP; break;
            case "active": case "pre-switchover": case "device": case "postcopy-active": case "wait-unplug":
                state = MigrationStatus.State.ACTIVE; break;
            case "completed": state = MigrationStatus.State.COMPLETED; break;
            case "failed": state = MigrationStatus.State.FAILED; break;
            case "cancelled": case "cancelling": state = MigrationStatus.State.CANCELLED; break;
            default: state = MigrationStatus.State.NONE; break;
        }
        JsonNode ram = r.path("ram");
        // QEMU reports the switch-over pause once the migration completed
        long downtime = state == MigrationStatus.State.COMPLETED && r.path("downtime").canConvertToLong()
                && r.path("downtime").asLong() >= 0 ? r.path("downtime").asLong() : -1;
        return new MigrationStatus(state, Math.max(0, ram.path("transferred").asLong()),
                Math.max(0, ram.path("remaining").asLong()), Math.max(0, ram.path("total").asLong()), downtime, null);
    }

    /**
     * Migrates the VM behind {@code qmp} to {@code tcp:<address>:<port>} and returns when it
     * completed.
     *
     * @return when QEMU says it completed (the timestamp of its {@code completed} event), or
     *         null when completion was seen through {@code query-migrate}
     * @throws HypervisorException with QEMU's error text; the source is running again
     */
    public static java.time.Instant run(QmpClient qmp, String name, String address, long port, boolean live, long bandwidthMiB,
                           long downtimeMs, Duration timeout, java.util.function.Consumer<MigrationStatus> progress,
                           java.util.function.Supplier<String> cancelReason)
            throws HypervisorException {
        boolean stopped = false;
        try {
            if (!live) {
                qmp.execute("stop", Map.of());
                stopped = true;
            }
            begin(qmp, address, port, bandwidthMiB, downtimeMs);
            return await(qmp, name, address, timeout, progress, cancelReason);
        } catch (HypervisorException e) {
            if (stopped) {
                try {
                    qmp.execute("cont", Map.of());
                } catch (QmpException resume) {
                    e.addSuppressed(resume);
                }
            }
            throw e;
        }
    }

    /** The limits (bandwidth in bytes/s, downtime in ms), the events capability, and {@code migrate}. */
    private static void begin(QmpClient qmp, String address, long port, long bandwidthMiB, long downtimeMs)
            throws QmpException {
        Map<String, Object> params = new java.util.LinkedHashMap<>();
        if (bandwidthMiB > 0) {
            params.put("max-bandwidth", bandwidthMiB * 1024L * 1024L);
        }
        if (downtimeMs > 0) {
            params.put("downtime-limit", downtimeMs);
        }
        if (!params.isEmpty()) {
            qmp.execute("migrate-set-parameters", params);
        }
        // QEMU emits MIGRATION events only with this capability; without it we would poll
        qmp.execute("migrate-set-capabilities", Map.of("capabilities",
                java.util.List.of(Map.of("capability", "events", "state", true))));
        qmp.execute("migrate", Map.of("uri", "tcp:" + address + ":" + port));
    }

    /** Waits for the end: the event normally arrives at once; {@code query-migrate} covers a missed one. */
    private static java.time.Instant await(QmpClient qmp, String name, String address, Duration timeout,
                                           java.util.function.Consumer<MigrationStatus> progress,
                                           java.util.function.Supplier<String> cancelReason)
            throws HypervisorException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String cancel = cancelReason.get();
            if (cancel != null) {
                qmp.execute("migrate_cancel", Map.of());
                throw new HypervisorException("Migration of " + name + " to " + address + " cancelled: " + cancel
                        + "; the instance keeps running on the source");
            }
            if (left <= 0) {
                qmp.execute("migrate_cancel", Map.of());
                throw new HypervisorException("Migration of " + name + " to " + address + " did not complete within "
                        + timeout + "; cancelled");
            }
            JsonNode ev = qmp.awaitEvent(e -> "MIGRATION".equals(e.path("event").asText()),
                    Duration.ofNanos(Math.min(left, Duration.ofMillis(500).toNanos())));
            String state = ev != null ? ev.path("data").path("status").asText() : null;
            if (state == null || !FINAL.contains(state)) {
                // one monitor client at a time: progress comes from this connection, never a second one
                MigrationStatus st = status(qmp);
                progress.accept(st);
                state = st.status().name().toLowerCase(Locale.ROOT);
                ev = null;
            }
            if (state.equals("completed")) {
                return ev == null ? null : timestamp(ev);
            }
            if (state.equals("failed") || state.equals("cancelled")) {
                String why = qmp.execute("query-migrate", Map.of()).path("error-desc").asText("");
                throw new HypervisorException("Migration " + state + " at the kvm level"
                        + (why.isEmpty() ? "" : ": " + why));
            }
        }
    }

    private static java.time.Instant timestamp(JsonNode event) {
        JsonNode ts = event.path("timestamp");
        return java.time.Instant.ofEpochSecond(ts.path("seconds").asLong(), ts.path("microseconds").asLong() * 1000L);
    }
}
