package org.hvkit.kvm.internal.monitor;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.InstanceState;
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
 * <p>Users queue per instance on its lock, for a bounded time; best-effort readers
 * ({@code hv:list}) only try it. A connection belongs to one QEMU process (pid): a new process
 * of the same name (reboot, migration back) gets a new one. Transport failures drop the
 * connection, command errors do not. Once {@link #close closed} (the component goes away),
 * nothing opens a connection again: a connection opened after the close would be the one
 * QEMU serves, and the successor's would never be greeted (fault injection: every
 * {@code hv:list} took 10 s after a bundle stop during a start).
 */
public final class Monitors implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Monitors.class);

    /** Events after which the cached run state may be wrong. */
    private static final Set<String> STATE_EVENTS = Set.of("STOP", "RESUME", "SHUTDOWN", "SUSPEND", "WAKEUP",
            "GUEST_PANICKED", "GUEST_CRASHLOADED", "RESET");

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final Duration timeout;
    private volatile boolean closed;
    /** The {@link ConnectionWatcher}'s thread: a reader waits for it (briefly) instead of calling the monitor busy. */
    private volatile Thread watcherThread;

    /** A command (or several) on an instance's connection. */
    @FunctionalInterface
    public interface QmpCall<T> {
        T apply(QmpClient qmp) throws HypervisorException;
    }

    /**
     * Told what the kept connections carry, in the thread that reads it: every QMP event, and the
     * end of a connection that QEMU closed (its process ends: a crash, a shutdown, a kill).
     * Implementations must be quick and must not use the monitors.
     */
    public interface Listener {
        /** A QMP event from the QEMU process {@code pid} of {@code name}. */
        void event(String name, long pid, JsonNode event);

        /** QEMU process {@code pid} of {@code name} closed its monitor connection (nobody here closed it). */
        void closedByQemu(String name, long pid);

        /** A connection of {@code name} was closed here or there: whoever waits on it must stop. */
        default void dropped(String name) {
        }
    }

    private volatile Listener listener = new Listener() {
        @Override
        public void event(String name, long pid, JsonNode event) {
        }

        @Override
        public void closedByQemu(String name, long pid) {
        }
    };

    private static final class Entry {
        final String name;
        final ReentrantLock lock = new ReentrantLock();
        QmpClient qmp;
        long pid = -1;
        /** Whether a reader has seen the process behind the connection alive (its /proc entry). */
        boolean attached;
        /** The last {@code query-status} answer still known to hold, or null. */
        String status;
        /** Set by {@link #forget} when another user held the connection: that user drops it. */
        volatile boolean forgotten;
        /** The connection watcher holds the lock (reading an event, opening the connection). */
        volatile boolean heldByWatcher;

        Entry(String name) {
            this.name = name;
        }
    }

    /** @param timeout the default for connecting and for each command */
    public Monitors(Duration timeout) {
        this.timeout = timeout;
    }

    private Entry entry(String name) {
        return entries.computeIfAbsent(name, Entry::new);
    }

    /** Sets who hears events and the ends of connections (the instance watcher); set once, before any use. */
    public void listener(Listener l) {
        this.listener = l;
    }

    /** The instance's lock, for a caller that runs several steps on its monitor. */
    public ReentrantLock lock(String name) {
        return entry(name).lock;
    }

    /** {@link #call(String, Path, long, Duration, QmpCall)} with the default timeout. */
    public <T> T call(String name, Path socket, long pid, QmpCall<T> call) throws HypervisorException {
        return call(name, socket, pid, timeout, call);
    }

    /**
     * Runs {@code call} on the connection to QEMU process {@code pid} of instance {@code name}.
     * Waiting for another user of the connection, connecting and each command are bounded by
     * {@code wait}. The cached run state is forgotten afterwards (the call may have changed it).
     */
    public <T> T call(String name, Path socket, long pid, Duration wait, QmpCall<T> call) throws HypervisorException {
        return run(name, socket, pid, wait, call, false);
    }

    /**
     * Runs read-only {@code query-*} commands like {@link #call}, but keeps the cached run state
     * (a statistics pass every second must not make every {@code hv:list} ask QEMU again).
     */
    public <T> T query(String name, Path socket, long pid, Duration wait, QmpCall<T> call) throws HypervisorException {
        return run(name, socket, pid, wait, call, true);
    }

    private <T> T run(String name, Path socket, long pid, Duration wait, QmpCall<T> call, boolean readOnly)
            throws HypervisorException {
        Entry e = entry(name);
        try {
            if (!e.lock.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new QmpException("The QMP monitor of " + name + " is busy with another operation", (String) null);
            }
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            throw new QmpException("Interrupted while waiting for the QMP monitor of " + name, (String) null);
        }
        try {
            QmpClient q = open(e, socket, pid, wait);
            Duration before = q.timeout(wait);
            try {
                return call.apply(q);
            } catch (QmpException x) {
                if (x.errorClass() == null) {
                    drop(e); // the connection is in doubt (timeout, EOF): the next user reconnects
                }
                throw x;
            } finally {
                if (!readOnly) {
                    e.status = null;
                }
                if (e.qmp != null) {
                    e.qmp.timeout(before);
                    forgetStatusOnStateEvents(e); // a query keeps the state only if nothing changed it meanwhile
                }
            }
        } finally {
            if (e.forgotten || closed) {
                drop(e);
            }
            e.lock.unlock();
        }
    }

    /** What {@link #status} says when another user holds the monitor. */
    public static final String BUSY = "(busy)";

    /**
     * The run state an instance is reported in: a stopped (SIGSTOP) process or a silent monitor
     * is unresponsive; a busy monitor means another operation works on a live, scheduled process;
     * otherwise QEMU's {@code query-status} answer decides.
     */
    public static InstanceState runState(boolean processStopped, String status) {
        if (processStopped || status == null) {
            return InstanceState.UNRESPONSIVE;
        }
        return BUSY.equals(status) || "running".equals(status) ? InstanceState.RUNNING
                : "shutdown".equals(status) ? InstanceState.SHUTDOWN : InstanceState.PAUSED;
    }

    /**
     * QEMU's run state ({@code running}, {@code paused}, {@code shutdown}, {@code inmigrate} …)
     * within {@code wait}; {@link #BUSY} when another user holds the monitor, null when QEMU
     * does not answer in time or the connection fails. Costs a non-blocking read while nothing
     * changed, one {@code query-status} after a change.
     */
    public String status(String name, Path socket, long pid, Duration wait) {
        Entry e = entry(name);
        if (!e.lock.tryLock() && !(e.heldByWatcher && lockWithin(e, wait))) {
            // an operation works on it; the watcher holds it only to read an event or to connect,
            // which is waited for within the caller's bound (a QEMU it cannot connect to stays
            // unanswered: null, unresponsive)
            return e.heldByWatcher ? null : BUSY;
        }
        e.heldByWatcher = Thread.currentThread() == watcherThread;
        try {
            QmpClient q = open(e, socket, pid, wait);
            e.attached = true;
            Duration before = q.timeout(wait);
            try {
                return currentStatus(e);
            } finally {
                if (e.qmp != null) {
                    e.qmp.timeout(before);
                }
            }
        } catch (HypervisorException x) {
            LOG.debug("QMP status of {}: {}", name, x.getMessage());
            drop(e);
            return null;
        } finally {
            // as call(): a reader that outlived forget() or close() must not keep the one connection QEMU serves
            if (e.forgotten || closed) {
                drop(e);
            }
            e.heldByWatcher = false;
            e.lock.unlock();
        }
    }

    /**
     * The pid behind the instance's kept connection when the connection is healthy — a
     * non-blocking read, never a command: for callers that need liveness only. Empty also when
     * busy or never attached. A healthy socket does not prove a live process: a killed
     * multi-threaded QEMU's leader is a zombie while its other threads still hold the socket.
     */
    public java.util.OptionalLong connectedPid(String name) {
        return kept(name, false).map(k -> java.util.OptionalLong.of(k.pid())).orElse(java.util.OptionalLong.empty());
    }

    /** The pid behind a healthy kept connection and its cached run state, without waiting. */
    public record Snapshot(long pid, String status) {
    }

    /**
     * The instance's pid and run state from its kept connection alone, when there is one and it
     * is healthy: QEMU's exit (zombie or not) closes the socket, which the non-blocking read
     * sees. Empty when there is no such connection, it broke, no cached state is known, or
     * another user holds the monitor. A stopped (SIGSTOP) QEMU keeps its socket open: the
     * caller must look at the process state as well.
     */
    public Optional<Snapshot> snapshot(String name) {
        return kept(name, true);
    }

    private Optional<Snapshot> kept(String name, boolean needStatus) {
        Entry e = entries.get(name);
        if (e == null || !e.lock.tryLock()) {
            return Optional.empty();
        }
        try {
            if (e.qmp == null || !e.attached) {
                return Optional.empty();
            }
            absorbEvents(e);
            if (needStatus && e.status == null) {
                return Optional.empty();
            }
            return Optional.of(new Snapshot(e.pid, e.status));
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
        forgetStatusOnStateEvents(e);
    }

    /** Consumes the queued events; a state event forgets the cached status. */
    private static void forgetStatusOnStateEvents(Entry e) {
        for (JsonNode ev : e.qmp.drainEvents()) {
            if (STATE_EVENTS.contains(ev.path("event").asText())) {
                e.status = null;
            }
        }
    }

    private QmpClient open(Entry e, Path socket, long pid, Duration wait) throws QmpException {
        if (closed) {
            throw new QmpException("QMP connections are closed: the KVM hypervisor component is stopping",
                    (String) null);
        }
        if (e.qmp != null && e.pid != pid) {
            drop(e);
        }
        if (e.qmp == null) {
            e.forgotten = false;
            e.qmp = QmpClient.connect(socket, wait.compareTo(timeout) < 0 ? wait : timeout);
            e.pid = pid;
            Listener l = listener;
            String name = e.name;
            e.qmp.onEvent(ev -> l.event(name, pid, ev));
            e.attached = false;
            e.status = null;
        }
        return e.qmp;
    }

    /**
     * Closes the entry's connection. What QEMU sent last is read first, without waiting: a
     * connection dropped because its process is dead (a listing saw the zombie) still tells
     * the listener that QEMU closed it, and any {@code SHUTDOWN} event before that.
     */
    private void drop(Entry e) {
        if (e.qmp != null) {
            if (!e.qmp.peerClosed() && !closed) {
                try {
                    e.qmp.pollEvents();
                } catch (QmpException x) {
                    // closed by QEMU (peerClosed says so) or broken: either way it goes
                }
            }
            boolean byQemu = e.qmp.peerClosed() && !closed;
            long pid = e.pid;
            e.qmp.close();
            if (byQemu) {
                listener.closedByQemu(e.name, pid);
            }
            listener.dropped(e.name);
        }
        e.qmp = null;
        e.pid = -1;
        e.attached = false;
        e.status = null;
        e.forgotten = false;
    }

    /**
     * Closes the instance's connection (it stopped, was cleaned up or migrated away). Never
     * waits long: when another user holds the connection (a clean stop waiting for QEMU), it
     * is marked and that user drops it when done — a forced stop must not queue behind it.
     */
    public void forget(String name) {
        Entry e = entries.get(name);
        if (e != null) {
            dropWhenFree(e, 50);
        }
    }

    /**
     * Closes every connection and refuses new ones (the component goes away; its successor
     * connects anew). A user still busy after the timeout drops its connection when it ends.
     */
    @Override
    public void close() {
        closed = true;
        for (Entry e : entries.values()) {
            dropWhenFree(e, timeout.toMillis());
        }
    }

    /** Drops the connection if its lock is free within {@code millis}; else its current user drops it when done. */
    private void dropWhenFree(Entry e, long millis) {
        e.forgotten = true;
        boolean locked = false;
        try {
            locked = e.lock.tryLock(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
        }
        if (locked) {
            try {
                drop(e);
            } finally {
                e.lock.unlock();
            }
        }
    }

    /** A kept, attached connection that nobody uses right now: the watcher may wait on its socket. */
    record Idle(String name, long pid, org.hvkit.netdev.UnixSocket socket) {
    }

    /**
     * The kept connection of {@code name} to process {@code pid}: {@link Idle} when it is free and
     * healthy as far as is known, {@link #BUSY} (as a String) when someone uses it, null when
     * there is none to that process.
     */
    Object watchable(String name, long pid) {
        Entry e = entries.get(name);
        if (e == null) {
            return null;
        }
        if (!e.lock.tryLock()) {
            return BUSY;
        }
        try {
            return e.qmp != null && e.attached && e.pid == pid ? new Idle(name, pid, e.qmp.socket()) : null;
        } finally {
            e.lock.unlock();
        }
    }

    /**
     * Reads what the connection of {@code name} has received, without waiting: events reach the
     * listener, a connection QEMU closed is dropped (and the listener told). Does nothing when
     * another user holds the connection: that user reads it.
     */
    void pump(String name) {
        Entry e = entries.get(name);
        if (e == null || !e.lock.tryLock()) {
            return;
        }
        e.heldByWatcher = true;
        try {
            if (e.qmp != null) {
                absorbEvents(e);
            }
        } catch (HypervisorException x) {
            LOG.debug("QMP connection of {} ended: {}", name, x.getMessage());
            drop(e);
        } finally {
            if (e.forgotten || closed) {
                drop(e);
            }
            e.heldByWatcher = false;
            e.lock.unlock();
        }
    }

    /** The watcher's thread (set by itself when it starts). */
    void watcherThread(Thread t) {
        this.watcherThread = t;
    }

    private static boolean lockWithin(Entry e, Duration wait) {
        try {
            return e.lock.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Number of open connections. */
    public int open() {
        return (int) entries.values().stream().filter(e -> e.qmp != null).count();
    }
}
