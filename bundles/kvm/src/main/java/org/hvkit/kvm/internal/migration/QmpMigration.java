package org.hvkit.kvm.internal.migration;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.MigrationStatus;
import org.hvkit.kvm.internal.monitor.QmpClient;
import org.hvkit.kvm.internal.monitor.QmpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source side of a migration over QMP (Ganeti 3.x's {@code MigrateInstance};
 * docs/ganeti-behaviour.md, "Migration"): optional {@code stop},
 * {@code migrate-set-parameters} (bandwidth in bytes/s, downtime in ms), {@code migrate}, then
 * waiting on {@code MIGRATION} events with {@code query-migrate} as the fallback, under an
 * overall timeout, cancelled when the caller says so (the component is stopping). Every failure
 * resumes a non-live source and carries QEMU's own error text.
 */
public final class QmpMigration {

    private static final Logger LOG = LoggerFactory.getLogger(QmpMigration.class);
    /** The states after which a migration is over. */
    private static final java.util.Set<String> FINAL = java.util.Set.of("completed", "failed", "cancelled");

    private QmpMigration() {
    }

    /** Switches an active pre-copy that made its passes to post-copy, once, where the migration allows it. */
    private static void maybePostcopy(QmpClient qmp, String name, JsonNode raw, Phase phase) throws QmpException {
        if (phase.postcopyAllowed && !phase.postcopyStarted && "active".equals(raw.path("status").asText())
                && raw.path("ram").path("dirty-sync-count").asLong(0) >= POSTCOPY_AFTER_PASSES) {
            qmp.execute("migrate-start-postcopy", Map.of());
            phase.postcopyStarted = true;
            LOG.info("Migration of {}: pre-copy did not converge in {} passes; switched to post-copy", name,
                    POSTCOPY_AFTER_PASSES);
        }
    }

    /** {@code query-migrate} as a {@link MigrationStatus}. */
    public static MigrationStatus status(QmpClient qmp) throws QmpException {
        return status(qmp.execute("query-migrate", Map.of()));
    }

    private static MigrationStatus status(JsonNode r) {
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
        MigrationStatus.Phase phase = switch (s) {
            case "active" -> MigrationStatus.Phase.PRE_COPY;
            case "postcopy-active" -> MigrationStatus.Phase.POST_COPY;
            case "device", "pre-switchover" -> MigrationStatus.Phase.DEVICE_STATE;
            default -> MigrationStatus.Phase.NONE;
        };
        return new MigrationStatus(state, Math.max(0, ram.path("transferred").asLong()),
                Math.max(0, ram.path("remaining").asLong()), Math.max(0, ram.path("total").asLong()), downtime, null,
                phase, figure(ram.path("dirty-pages-rate")), figure(r.path("expected-downtime")));
    }

    /** A non-negative number QEMU reported, or -1 (absent, negative, not a number). */
    private static long figure(JsonNode n) {
        return n.canConvertToLong() && n.asLong() >= 0 ? n.asLong() : -1;
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
        return run(qmp, name, address, port, live, bandwidthMiB, downtimeMs, List.of(), timeout, progress, cancelReason);
    }

    /**
     * {@link #run(QmpClient, String, String, long, boolean, long, long, Duration,
     * java.util.function.Consumer, java.util.function.Supplier)} with Ganeti 3.0's
     * {@code migration_caps} switched on first; with {@code postcopy-ram} among them the
     * migration switches to post-copy once pre-copy has made two passes without finishing
     * (Ganeti's {@code _POSTCOPY_SYNC_COUNT_THRESHOLD}).
     */
    public static java.time.Instant run(QmpClient qmp, String name, String address, long port, boolean live,
                                        long bandwidthMiB, long downtimeMs, List<String> capabilities, Duration timeout,
                                        java.util.function.Consumer<MigrationStatus> progress,
                                        java.util.function.Supplier<String> cancelReason)
            throws HypervisorException {
        return run(qmp, name, address, port, live, bandwidthMiB, downtimeMs, capabilities, MigrationTuning.DEFAULTS,
                timeout, progress, cancelReason);
    }

    /** {@link #run(QmpClient, String, String, long, boolean, long, long, List, Duration,
     * java.util.function.Consumer, java.util.function.Supplier)} with the node's {@code tuning} of the capabilities. */
    public static java.time.Instant run(QmpClient qmp, String name, String address, long port, boolean live,
                                        long bandwidthMiB, long downtimeMs, List<String> capabilities,
                                        MigrationTuning tuning, Duration timeout,
                                        java.util.function.Consumer<MigrationStatus> progress,
                                        java.util.function.Supplier<String> cancelReason)
            throws HypervisorException {
        boolean stopped = false;
        Phase phase = new Phase(live && MigrationCapabilities.postcopy(capabilities));
        try {
            if (!live) {
                qmp.execute("stop", Map.of());
                stopped = true;
            }
            begin(qmp, address, port, bandwidthMiB, downtimeMs, capabilities, tuning);
            return await(qmp, name, address, timeout, progress, cancelReason, phase);
        } catch (HypervisorException e) {
            if (phase.postcopyStarted) {
                // the guest's memory is split between both sides now: resuming the source would run a guest
                // with pages that live only on the target
                throw new HypervisorException("Migration of " + name + " failed after it switched to post-copy: "
                        + e.getMessage() + "; the source is left paused and must not be resumed (its memory is"
                        + " incomplete); the guest's state is on the target, if anywhere", e);
            }
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

    /** Whether this migration may switch to post-copy, and whether it did. */
    private static final class Phase {
        final boolean postcopyAllowed;
        boolean postcopyStarted;

        Phase(boolean postcopyAllowed) {
            this.postcopyAllowed = postcopyAllowed;
        }
    }

    /** Pre-copy passes after which a migration allowed to switches to post-copy (Ganeti 3.0's threshold). */
    static final int POSTCOPY_AFTER_PASSES = 2;

    /** The limits (bandwidth in bytes/s, downtime in ms), the events capability, and {@code migrate}. */
    private static void begin(QmpClient qmp, String address, long port, long bandwidthMiB, long downtimeMs,
                              List<String> capabilities, MigrationTuning tuning) throws HypervisorException {
        Map<String, Object> params = new java.util.LinkedHashMap<>(tuning.sourceParameters(capabilities));
        if (params.containsKey("xbzrle-cache-size") && !atLeast(qmp.version(), 2, 11)) {
            // before QEMU 2.11 the cache size had a command of its own
            qmp.execute("migrate-set-cache-size", Map.of("value", params.remove("xbzrle-cache-size")));
        }
        if (bandwidthMiB > 0) {
            params.put("max-bandwidth", bandwidthMiB * 1024L * 1024L);
            // post-copy's background stream has its own limit, unlimited by default: without it a
            // switch to post-copy would flood the link the operator bounded (QEMU 3.0 and later)
            if (capabilities.contains("postcopy-ram") && atLeast3(qmp.version())) {
                params.put("max-postcopy-bandwidth", bandwidthMiB * 1024L * 1024L);
            }
        }
        if (downtimeMs > 0) {
            params.put("downtime-limit", downtimeMs);
        }
        if (!params.isEmpty()) {
            qmp.execute("migrate-set-parameters", params);
        }
        // QEMU emits MIGRATION events only with "events"; without it we would poll
        MigrationCapabilities.set(qmp, capabilities, true, Map.of("events", true));
        qmp.execute("migrate", Map.of("uri", "tcp:" + address + ":" + port));
    }

    /** Whether a {@code major.minor.micro} version is 3.0 or later. */
    static boolean atLeast3(String version) {
        return atLeast(version, 3, 0);
    }

    /** Whether a {@code major.minor[.micro]} version is {@code major.minor} or later (false when unreadable). */
    static boolean atLeast(String version, int major, int minor) {
        try {
            String[] p = version.split("\\.");
            int ma = Integer.parseInt(p[0]);
            int mi = p.length > 1 ? Integer.parseInt(p[1]) : 0;
            return ma > major || ma == major && mi >= minor;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Waits for the end: the event normally arrives at once; {@code query-migrate} covers a missed one. */
    private static java.time.Instant await(QmpClient qmp, String name, String address, Duration timeout,
                                           java.util.function.Consumer<MigrationStatus> progress,
                                           java.util.function.Supplier<String> cancelReason, Phase phase)
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
                JsonNode raw = qmp.execute("query-migrate", Map.of());
                MigrationStatus st = status(raw);
                progress.accept(st);
                maybePostcopy(qmp, name, raw, phase);
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
