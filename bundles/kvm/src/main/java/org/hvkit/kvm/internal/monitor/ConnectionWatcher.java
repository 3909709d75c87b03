package org.hvkit.kvm.internal.monitor;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.LongPredicate;
import java.util.function.Supplier;

import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.UnixSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread per node that waits on the kept QMP connections of the watched instances — one
 * {@code poll(2)} over all their sockets — so that QEMU's events and the end of a connection
 * are read the moment they arrive, not when someone next asks: a {@code kill -9} of QEMU closes
 * its socket, the poll returns, the read sees the end of the stream and {@link Monitors}
 * tells its listener. Nothing here looks at processes on a timer.
 *
 * <p>A connection that another user holds is not waited on (that user reads it, and sees the
 * end too); a watched instance without a connection gets one opened — not while its process is
 * stopped (SIGSTOP: it could not greet), and after failures only every 1, 2, 4 … 30 s, so one
 * hung QEMU costs the others little — and only then is {@code /proc} asked whether the process
 * still exists (a connection dropped for a timeout must not hide a crash). Every wait is
 * bounded: the poll by {@link #IDLE_WAIT}, openings by {@link #OPEN_WAIT}. The thread wakes at once when a
 * connection is dropped or a watch added, so no socket stays held by a poll after its close.
 */
public final class ConnectionWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionWatcher.class);
    /** The longest poll: only a bound, nothing is looked at when it ends without news. */
    static final Duration IDLE_WAIT = Duration.ofSeconds(5);
    /** The poll while some watched connection is busy or missing (retry soon). */
    static final Duration RETRY_WAIT = Duration.ofMillis(100);
    /** How long opening a connection may take. */
    static final Duration OPEN_WAIT = Duration.ofSeconds(2);
    /** The first pause after a failed opening; it doubles up to {@link #REOPEN_AT_MOST}. */
    static final Duration REOPEN_EVERY = Duration.ofSeconds(1);
    static final Duration REOPEN_AT_MOST = Duration.ofSeconds(30);

    private final Monitors monitors;
    private final Supplier<Map<String, Long>> watched;
    private final Function<String, Path> socketOf;
    private final LongPredicate gone;
    private final LongPredicate stopped;
    private final BiConsumer<String, Long> vanished;
    private final UnixSocket wakeIn;
    private final UnixSocket wakeOut;
    private final Thread thread;
    /** Per instance without a connection: when to try again and the pause after the next failure. */
    private final Map<String, long[]> nextOpen = new HashMap<>();
    private final java.util.concurrent.atomic.AtomicBoolean wakePending = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean closed;

    /**
     * @param watched  the instances to watch and the pid of each
     * @param socketOf the QMP socket path of an instance
     * @param gone     whether a pid's process has ended (its leader is a zombie or gone)
     * @param stopped  whether a pid's process is stopped (SIGSTOP or a tracer)
     * @param vanished told when a watched process ended and its connection could not show it
     */
    public ConnectionWatcher(String node, Monitors monitors, Supplier<Map<String, Long>> watched,
                             Function<String, Path> socketOf, LongPredicate gone, LongPredicate stopped,
                             BiConsumer<String, Long> vanished) throws NativeException {
        this.monitors = monitors;
        this.watched = watched;
        this.socketOf = socketOf;
        this.gone = gone;
        this.stopped = stopped;
        this.vanished = vanished;
        UnixSocket[] pair = UnixSocket.pair();
        this.wakeIn = pair[0];
        this.wakeOut = pair[1];
        this.thread = new Thread(this::loop, "hvkit-kvm-watch-" + node);
        thread.setDaemon(true);
    }

    /** Starts the thread. */
    public void start() {
        thread.start();
    }

    /** Makes the thread look again now (a watch was added, a connection dropped). */
    public void wake() {
        if (closed || !wakePending.compareAndSet(false, true)) {
            return; // one byte in flight wakes it; more would only fill the pair's buffer
        }
        try {
            wakeOut.write(new byte[] {1});
        } catch (NativeException e) {
            LOG.debug("Waking the instance watcher: {}", e.getMessage());
        }
    }

    private void loop() {
        monitors.watcherThread(Thread.currentThread());
        byte[] sink = new byte[256];
        while (!closed) {
            try {
                List<Monitors.Idle> idle = new ArrayList<>();
                boolean retrySoon = false;
                Map<String, Long> now = watched.get();
                nextOpen.keySet().retainAll(now.keySet());
                for (Map.Entry<String, Long> w : now.entrySet()) {
                    Object state = monitors.watchable(w.getKey(), w.getValue());
                    if (state == null && open(w.getKey(), w.getValue())) {
                        state = monitors.watchable(w.getKey(), w.getValue()); // opened: wait on it in this round
                    }
                    if (state instanceof Monitors.Idle i) {
                        idle.add(i);
                    } else {
                        retrySoon = true; // busy (its user reads it), or not open yet: look again soon
                    }
                }
                List<UnixSocket> sockets = new ArrayList<>(idle.size() + 1);
                sockets.add(wakeIn);
                idle.forEach(i -> sockets.add(i.socket()));
                BitSet ready = UnixSocket.awaitAnyReadable(sockets, retrySoon ? RETRY_WAIT : IDLE_WAIT);
                if (ready.get(0)) {
                    wakePending.set(false);
                    while (wakeIn.awaitReadable(Duration.ZERO) && wakeIn.read(sink, Duration.ZERO) > 0) {
                        // drained
                    }
                }
                for (int i = ready.nextSetBit(1); i >= 0 && !closed; i = ready.nextSetBit(i + 1)) {
                    monitors.pump(idle.get(i - 1).name());
                }
            } catch (IllegalStateException e) {
                if (!closed) {
                    // a connection dropped (a stop, a cleanup) between the collection of the idle
                    // ones and the poll — routine when many instances stop at once: look again
                    LOG.debug("Instance watcher: {}", e.getMessage());
                    pause(); // bounded: a connection that stayed listed closed cannot spin this thread
                }
            } catch (NativeException | RuntimeException e) {
                if (!closed) {
                    LOG.warn("Instance watcher: {}", e.toString());
                    pause();
                }
            }
        }
    }

    /**
     * Opens the connection of a watched instance (rate-limited); whether the instance needs no
     * quick retry. A process that ended without a connection to show it is reported as vanished.
     */
    private boolean open(String name, long pid) {
        long now = System.nanoTime();
        long[] next = nextOpen.get(name);
        if (next != null && now - next[0] < 0) {
            return false;
        }
        if (!gone.test(pid) && !stopped.test(pid)
                && monitors.status(name, socketOf.apply(name), pid, OPEN_WAIT) != null) {
            nextOpen.remove(name);
            return true;
        }
        if (gone.test(pid)) {
            nextOpen.remove(name);
            vanished.accept(name, pid);
            return true;
        }
        long pause = next == null ? REOPEN_EVERY.toNanos() : Math.min(next[1] * 2, REOPEN_AT_MOST.toNanos());
        nextOpen.put(name, new long[] {System.nanoTime() + pause, pause});
        return false;
    }

    private void pause() {
        try {
            Thread.sleep(RETRY_WAIT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    /** Stops the thread (bounded wait) and closes its wake-up sockets. */
    @Override
    public void close() {
        closed = true;
        try {
            wakeOut.write(new byte[] {1});
        } catch (NativeException e) {
            // the thread ends at its next bound
        }
        try {
            thread.join(OPEN_WAIT.plus(IDLE_WAIT).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warn("Instance watcher {} did not end in time", thread.getName());
        } else {
            wakeIn.close();
        }
        wakeOut.close();
    }
}
