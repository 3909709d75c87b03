package org.hvkit.kvm.internal.events;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import org.hvkit.hypervisor.InstanceEvents;
import org.hvkit.hypervisor.MigrationStatus;
import org.hvkit.kvm.internal.monitor.Monitors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Turns what the KVM driver does and what QEMU tells it into {@link InstanceEvents}, exactly
 * one per fact. Each watched QEMU process (an instance's pid) ends once: the first of
 * "the driver ended it" ({@link #ended}) and "QEMU closed its monitor" ({@link #closedByQemu})
 * decides the event, the other is ignored. How an end is classified:
 *
 * <ul>
 * <li>the driver announced it ({@link #ending}: a stop, a forced stop, a reboot, a migration
 *     away) → {@link InstanceEvents#STOPPED} with the driver's reason, or nothing for ends that
 *     are part of another fact (a migration's source, a start replacing a guest-shut-down QEMU);
 * <li>QEMU said {@code SHUTDOWN} with {@code guest: true} and exits with it (no
 *     {@code user_shutdown}) → {@link InstanceEvents#STOPPED} with
 *     {@link InstanceEvents#REASON_GUEST_POWEROFF}: the instance is down, not crashed — Ganeti
 *     too counts a guest's own poweroff without user shutdown as the instance being down
 *     ({@code ERROR_down}, which ganeti-watcher restarts; Ganeti's
 *     {@code doc/design-internal-shutdown.rst} and {@code man/ganeti-watcher.rst}), and only
 *     with user shutdown as {@code USER_down};
 * <li>anything else (killed, died, a {@code SHUTDOWN} from the host such as a foreign
 *     {@code SIGTERM}) → {@link InstanceEvents#CRASHED}.
 * </ul>
 *
 * A {@code SHUTDOWN} from the guest while QEMU stays ({@code -no-shutdown}, Ganeti 3.0's
 * user_shutdown) is {@link InstanceEvents#SHUTDOWN_BY_GUEST} at once. QMP {@code STOP} and
 * {@code RESUME} are {@link InstanceEvents#PAUSED}/{@link InstanceEvents#RESUMED} unless they
 * are part of a shutdown, a stop or a migration (QEMU stops the CPUs for those too).
 *
 * <p>Thread safe; called from the threads that read QMP and from operations. Once closed
 * (the component hands the node over) it publishes nothing: instances that still run did not
 * stop, and the successor watches them.
 */
public final class LifecycleEvents implements Monitors.Listener {

    private static final Logger LOG = LoggerFactory.getLogger(LifecycleEvents.class);
    /** An end that is part of another fact and publishes nothing of its own. */
    public static final String SILENT = "";
    /** At most one progress event per instance in this time. */
    static final long PROGRESS_EVERY_NANOS = 1_000_000_000L;

    private final String node;
    private final Supplier<InstanceEventSink> sink;
    private final Map<String, Watch> watches = new ConcurrentHashMap<>();
    private final Map<String, Long> lastProgress = new ConcurrentHashMap<>();
    private volatile Runnable onWatch = () -> { };
    private volatile DeviceDeleted onDeviceDeleted = (name, pid, device) -> { };
    private volatile boolean closed;

    /** Hears of QEMU's {@code DEVICE_DELETED}: a guest let go of a device (hot-removal, issue #15). */
    @FunctionalInterface
    public interface DeviceDeleted {
        /** Called on the thread that reads QMP: must not block or call QMP itself. */
        void deleted(String name, long pid, String device);
    }

    /** Who hears of {@code DEVICE_DELETED} events of watched processes (one listener). */
    public void onDeviceDeleted(DeviceDeleted listener) {
        this.onDeviceDeleted = java.util.Objects.requireNonNull(listener, "listener");
    }

    /** What is known about one QEMU process of an instance. Guarded by itself. */
    private static final class Watch {
        final long pid;
        final boolean keepsAfterShutdown;
        /** Why the driver is ending this process, or null. */
        String intent;
        boolean ended;
        boolean guestShutdown;
        boolean hostShutdown;
        String shutdownReason;
        boolean paused;
        boolean migrating;

        Watch(long pid, boolean keepsAfterShutdown, boolean paused) {
            this.pid = pid;
            this.keepsAfterShutdown = keepsAfterShutdown;
            this.paused = paused;
        }
    }

    /** @param sink the current sink, or null while there is none (no EventAdmin) */
    public LifecycleEvents(String node, Supplier<InstanceEventSink> sink) {
        this.node = node;
        this.sink = sink;
    }

    /** Told whenever a watch is added (wakes the connection watcher). */
    public void onWatch(Runnable r) {
        this.onWatch = r;
    }

    /** The processes watched now: instance name → pid. */
    public Map<String, Long> watched() {
        Map<String, Long> out = new HashMap<>();
        watches.forEach((name, w) -> out.put(name, w.pid));
        return out;
    }

    /**
     * QEMU process {@code pid} of {@code name} runs and is watched from now on.
     *
     * @param keepsAfterShutdown it runs with {@code -no-shutdown} (user_shutdown)
     * @param reason             why it started ({@code InstanceEvents.REASON_*}), or null when an
     *                           existing process is adopted (no event: nothing started)
     */
    public void started(String name, long pid, boolean keepsAfterShutdown, String reason) {
        if (closed) {
            return;
        }
        watches.put(name, new Watch(pid, keepsAfterShutdown, InstanceEvents.REASON_START_PAUSED.equals(reason)));
        if (reason != null) {
            publish(InstanceEvents.STARTED, name, pid, reason, Map.of());
        }
        onWatch.run();
    }

    /** The driver is about to end process {@code pid}; {@code reason} for its {@code STOPPED}, or {@link #SILENT}. */
    public void ending(String name, long pid, String reason) {
        Watch w = watch(name, pid);
        if (w != null) {
            synchronized (w) {
                w.intent = reason;
            }
        }
    }

    /** The driver did not end process {@code pid} after all (a stop failed): its end is a crash again. */
    public void notEnding(String name, long pid) {
        Watch w = watch(name, pid);
        if (w != null) {
            synchronized (w) {
                w.intent = null;
            }
        }
    }

    /** The driver ended process {@code pid} (it is gone); publishes the {@code STOPPED} unless QEMU's close did. */
    public void ended(String name, long pid, String reason) {
        Watch w = watch(name, pid);
        if (w == null) {
            return;
        }
        synchronized (w) {
            if (w.ended) {
                return;
            }
            end(name, w);
        }
        if (reason != null && !reason.equals(SILENT)) {
            publish(InstanceEvents.STOPPED, name, pid, reason, Map.of());
        }
    }

    @Override
    public void event(String name, long pid, JsonNode event) {
        Watch w = watch(name, pid);
        if (w == null) {
            return;
        }
        String topic = null;
        String reason = null;
        synchronized (w) {
            if (w.ended) {
                return;
            }
            switch (event.path("event").asText()) {
                case "SHUTDOWN" -> {
                    boolean guest = event.path("data").path("guest").asBoolean(false);
                    String why = event.path("data").path("reason").asText(guest ? "guest-shutdown" : "host");
                    if (w.intent == null && guest && !w.guestShutdown && w.keepsAfterShutdown) {
                        topic = InstanceEvents.SHUTDOWN_BY_GUEST;
                        reason = why;
                    }
                    w.guestShutdown |= guest;
                    w.hostShutdown |= !guest;
                    w.shutdownReason = why;
                }
                case "STOP" -> {
                    if (w.intent == null && !w.migrating && !w.guestShutdown && !w.hostShutdown && !w.paused) {
                        w.paused = true;
                        topic = InstanceEvents.PAUSED;
                        reason = "qmp-stop";
                    }
                }
                case "RESUME" -> {
                    if (w.paused) {
                        w.paused = false;
                        if (w.intent == null && !w.migrating) {
                            topic = InstanceEvents.RESUMED;
                            reason = "qmp-resume";
                        }
                    }
                }
                default -> {
                    // other events change nothing the topics tell
                }
            }
        }
        String device = event.path("data").path("device").asText("");
        if ("DEVICE_DELETED".equals(event.path("event").asText()) && !device.isEmpty()) {
            try {
                onDeviceDeleted.deleted(name, pid, device);
            } catch (RuntimeException e) {
                LOG.warn("Instance {}: handling DEVICE_DELETED of {} failed: {}", name, device, e.toString());
            }
        }
        if (topic != null) {
            publish(topic, name, pid, reason, Map.of());
        }
    }

    @Override
    public void closedByQemu(String name, long pid) {
        Watch w = watch(name, pid);
        if (w == null) {
            return;
        }
        String topic;
        String reason;
        synchronized (w) {
            if (w.ended) {
                return;
            }
            end(name, w);
            if (w.intent != null) {
                if (w.intent.equals(SILENT)) {
                    return;
                }
                topic = InstanceEvents.STOPPED;
                reason = w.intent;
            } else if (w.guestShutdown && !w.keepsAfterShutdown) {
                // QEMU's own reason when it is not a plain poweroff: guest-reset (reboot_behavior=exit), guest-panic
                topic = InstanceEvents.STOPPED;
                reason = "guest-shutdown".equals(w.shutdownReason) ? InstanceEvents.REASON_GUEST_POWEROFF
                        : w.shutdownReason;
            } else {
                topic = InstanceEvents.CRASHED;
                reason = w.hostShutdown ? "qemu-shutdown:" + w.shutdownReason : InstanceEvents.REASON_PROCESS_GONE;
            }
        }
        publish(topic, name, pid, reason, Map.of()); // first: the log line may wait for its output
        if (topic.equals(InstanceEvents.CRASHED)) {
            LOG.warn("Instance {} crashed: its QEMU (pid {}) ended without being asked to ({})", name, pid, reason);
        } else {
            LOG.info("Instance {} is down: its QEMU (pid {}) ended ({})", name, pid, reason);
        }
    }

    @Override
    public void dropped(String name) {
        onWatch.run();
    }

    /** A watched process ended and no connection could show it (it was gone before one was opened). */
    public void vanished(String name, long pid) {
        closedByQemu(name, pid);
    }

    /** A migration of {@code name} away from this node begins or ends: its CPU stops and resumes are part of it. */
    public void migrating(String name, long pid, boolean on) {
        Watch w = watch(name, pid);
        if (w != null) {
            synchronized (w) {
                w.migrating = on;
            }
        }
        if (!on) {
            lastProgress.remove(name);
        }
    }

    /**
     * Progress of a migration away; published at most once a second per instance, and never for
     * a final state (its COMPLETED or FAILED is the fact).
     */
    public void migrationProgress(String name, long pid, String target, MigrationStatus st) {
        if (st.status().isFinal()) {
            return;
        }
        long now = System.nanoTime();
        Long last = lastProgress.get(name);
        if (last != null && now - last < PROGRESS_EVERY_NANOS) {
            return;
        }
        lastProgress.put(name, now);
        publish(InstanceEvents.MIGRATION_PROGRESS, name, pid, st.status().name().toLowerCase(java.util.Locale.ROOT),
                migrationProperties(target, st));
    }

    /** A migration away completed (published before the source process is ended, which is silent). */
    public void migrationCompleted(String name, long pid, String target, MigrationStatus st) {
        migrating(name, pid, false);
        publish(InstanceEvents.MIGRATION_COMPLETED, name, pid, "completed", migrationProperties(target, st));
    }

    /** A migration away failed; the instance stays here. */
    public void migrationFailed(String name, long pid, String target, String reason) {
        migrating(name, pid, false);
        publish(InstanceEvents.MIGRATION_FAILED, name, pid, reason, Map.of(InstanceEvents.TARGET, target));
    }

    /**
     * A device of the running guest was hot-added, modified or removed ({@code KvmHotplug});
     * {@code topic} is one of the {@code DEVICE_} topics, {@code reason} the operation.
     */
    public void device(String topic, String name, long pid, String reason, Map<String, Object> properties) {
        publish(topic, name, pid, reason, properties);
    }

    private static Map<String, Object> migrationProperties(String target, MigrationStatus st) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put(InstanceEvents.TARGET, target);
        if (st != null) {
            p.put(InstanceEvents.TRANSFERRED, st.transferred());
            p.put(InstanceEvents.TOTAL, st.total());
            p.put(InstanceEvents.PHASE, st.phase().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        }
        return p;
    }

    /** Publishes nothing from now on (the node is handed over) and forgets every watch. */
    public void close() {
        closed = true;
        watches.clear();
    }

    private Watch watch(String name, long pid) {
        Watch w = watches.get(name);
        return w != null && w.pid == pid ? w : null;
    }

    /** Caller holds {@code w}. */
    private void end(String name, Watch w) {
        w.ended = true;
        watches.remove(name, w);
    }

    private void publish(String topic, String name, long pid, String reason, Map<String, Object> extra) {
        if (closed) {
            return;
        }
        Map<String, Object> p = new HashMap<>(extra);
        p.put(InstanceEvents.INSTANCE, name);
        p.put(InstanceEvents.NODE, node);
        p.put(InstanceEvents.TYPE, "kvm");
        p.put(InstanceEvents.PID, pid);
        p.put(InstanceEvents.REASON, reason);
        p.put(InstanceEvents.TIMESTAMP, System.currentTimeMillis());
        LOG.debug("{} {} pid {} ({})", topic, name, pid, reason);
        InstanceEventSink s = sink.get();
        if (s == null) {
            return;
        }
        try {
            s.publish(topic, p);
        } catch (RuntimeException e) {
            // EventAdmin going away under us must not fail a stop or a read
            LOG.debug("Publishing {} for {}: {}", topic, name, e.toString());
        }
    }
}
