package org.hvkit.kvm.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.monitor.QmpClient;
import org.hvkit.kvm.internal.process.QemuProcess;
import org.hvkit.kvm.internal.monitor.QmpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One QMP connection per live instance, opened on first use and kept (libvirt's model), so
 * that the driver knows each guest's run state without asking: QEMU serves one QMP client at
 * a time and broadcasts {@code STOP}/{@code RESUME}/{@code SHUTDOWN}… events to it. The
 * status last read with {@code query-status} stays valid until such an event arrives or the
 * driver itself sends a command; then the next reader asks again.
 *
 * <p>Users queue per instance on its lock; best-effort readers ({@code hv:list}) only try it.
 * A connection belongs to one QEMU process (pid): a new process of the same name (reboot,
 * migration back) gets a new one. Transport failures drop the connection, command errors do not.
 */
final class Monitors implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Monitors.class);

    /** Events after which the cached run state may be wrong. */
    private static final Set<String> STATE_EVENTS = Set.of("STOP", "RESUME", "SHUTDOWN", "SUSPEND", "WAKEUP",
            "GUEST_PANICKED", "GUEST_CRASHLOADED", "RESET");

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final Duration timeout;

    /** A command (or several) on an instance's connection. */
    @FunctionalInterface
    interface QmpCall<T> {
        T apply(QmpClient qmp) throws HypervisorException;
    }

    private static final class Entry {
        final ReentrantLock lock = new ReentrantLock();
        QmpClient qmp;
        long pid = -1;
        /** The process behind the connection as /proc showed it when a reader first asked (memory, VCPUs). */
        QemuProcess process;
        /** The last {@code query-status} answer still known to hold, or null. */
        String status;
    }

    Monitors(Duration timeout) {
        this.timeout = timeout;
    }

    private Entry entry(String name) {
        return entries.computeIfAbsent(name, n -> new Entry());
    }

    /** The instance's lock, for a caller that runs several steps on its monitor. */
    ReentrantLock lock(String name) {
        return entry(name).lock;
    }

    /**
     * Runs {@code call} on the connection to QEMU process {@code pid} of instance {@code name},
     * waiting for the instance's lock. The cached run state is forgotten afterwards (the call
     * may have changed it).
     */
    <T> T call(String name, Path socket, long pid, QmpCall<T> call) throws HypervisorException {
        Entry e = entry(name);
        e.lock.lock();
        try {
            QmpClient q = open(e, socket, pid);
            try {
                return call.apply(q);
            } catch (QmpException x) {
                if (x.errorClass() == null) {
                    drop(e); // the connection is in doubt (timeout, EOF): the next user reconnects
                }
                throw x;
            } finally {
                e.status = null;
                if (e.qmp != null) {
                    e.qmp.drainEvents();
                }
            }
        } finally {
            e.lock.unlock();
        }
    }

    /**
     * QEMU's run state ({@code running}, {@code paused}, {@code shutdown}, {@code inmigrate} …)
     * without waiting: empty when another user holds the monitor or QEMU does not answer.
     * Costs a non-blocking read while nothing changed, one {@code query-status} after a change.
     */
    Optional<String> status(String name, Path socket, QemuProcess process) {
        Entry e = entry(name);
        if (!e.lock.tryLock()) {
            return Optional.empty();
        }
        try {
            open(e, socket, process.pid());
            e.process = process;
            return Optional.of(currentStatus(e));
        } catch (HypervisorException x) {
            LOG.debug("QMP status of {}: {}", name, x.getMessage());
            drop(e);
            return Optional.empty();
        } finally {
            e.lock.unlock();
        }
    }

    /**
     * Whether the instance's kept connection is healthy (QEMU alive) — a non-blocking read, never
     * a command: for callers that need liveness only. False also when busy or never attached.
     */
    boolean connected(String name) {
        Entry e = entries.get(name);
        if (e == null || !e.lock.tryLock()) {
            return false;
        }
        try {
            if (e.qmp == null || e.process == null) {
                return false;
            }
            absorbEvents(e);
            return true;
        } catch (HypervisorException x) {
            LOG.debug("QMP connection of {} is gone: {}", name, x.getMessage());
            drop(e);
            return false;
        } finally {
            e.lock.unlock();
        }
    }

    /** A live instance as the kept connection knows it: no /proc read, no new connection. */
    record Snapshot(QemuProcess process, String status) {
    }

    /**
     * The instance's process and run state from its kept connection alone, when there is one
     * and it is healthy: QEMU's exit (zombie or not) closes the socket, which the non-blocking
     * read sees. Empty when there is no such connection, it broke, or another user holds the
     * monitor — the caller then asks /proc.
     */
    Optional<Snapshot> snapshot(String name) {
        Entry e = entries.get(name);
        if (e == null || !e.lock.tryLock()) {
            return Optional.empty();
        }
        try {
            if (e.qmp == null || e.process == null) {
                return Optional.empty();
            }
            return Optional.of(new Snapshot(e.process, currentStatus(e)));
        } catch (HypervisorException x) {
            LOG.debug("QMP connection of {} is gone: {}", name, x.getMessage());
            drop(e);
            return Optional.empty();
        } finally {
            e.lock.unlock();
        }
    }

    /** Reads pending events without waiting; asks {@code query-status} only when one may have changed it. */
    private static String currentStatus(Entry e) throws HypervisorException {
        absorbEvents(e);
        if (e.status == null) {
            e.status = e.qmp.execute("query-status", Map.of()).path("status").asText();
        }
        return e.status;
    }

    /** Reads what QEMU sent meanwhile; a state event forgets the cached status. Throws when QEMU is gone. */
    private static void absorbEvents(Entry e) throws HypervisorException {
        e.qmp.pollEvents();
        for (JsonNode ev : e.qmp.drainEvents()) {
            if (STATE_EVENTS.contains(ev.path("event").asText())) {
                e.status = null;
            }
        }
    }

    private QmpClient open(Entry e, Path socket, long pid) throws QmpException {
        if (e.qmp != null && e.pid != pid) {
            drop(e);
        }
        if (e.qmp == null) {
            e.qmp = QmpClient.connect(socket, timeout);
            e.pid = pid;
            e.process = null;
            e.status = null;
        }
        return e.qmp;
    }

    private static void drop(Entry e) {
        if (e.qmp != null) {
            e.qmp.close();
        }
        e.qmp = null;
        e.pid = -1;
        e.process = null;
        e.status = null;
    }

    /** Closes the instance's connection (it stopped, was cleaned up or migrated away). */
    void forget(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            return;
        }
        e.lock.lock();
        try {
            drop(e);
        } finally {
            e.lock.unlock();
        }
    }

    /** Closes every connection (the component goes away; its successor connects anew). */
    @Override
    public void close() {
        for (Map.Entry<String, Entry> me : entries.entrySet()) {
            Entry e = me.getValue();
            boolean locked = false;
            try {
                locked = e.lock.tryLock(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
            }
            // a user still busy after the timeout loses its connection; it fails and its caller sees why
            drop(e);
            if (locked) {
                e.lock.unlock();
            }
        }
    }

    /** Number of open connections (for tests). */
    int open() {
        return (int) entries.values().stream().filter(e -> e.qmp != null).count();
    }
}
