package org.hvkit.kvm.internal.monitor;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.NativeFd;
import org.hvkit.netdev.UnixSocket;

/**
 * A QMP connection: greeting, {@code qmp_capabilities}, commands with ids, asynchronous events
 * kept in a queue, timeouts on every read. Runs over netdev's {@link UnixSocket} so that a
 * descriptor can ride along a command ({@code getfd}). Not thread safe: one user at a time.
 */
public final class QmpClient implements AutoCloseable {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** QEMU's answers are input too: a peer that never ends a line must not fill the heap. */
    static final int MAX_MESSAGE_BYTES = 16 << 20;
    private static final int EPIPE = 32;
    private static final int ECONNRESET = 104;

    private final UnixSocket socket;
    private final Path path;
    /** How long a command waits for its reply; a caller with a deadline of its own may shorten it. */
    private Duration timeout;
    /** Bytes received and not yet consumed; split at '\n' before decoding, so no UTF-8 character is cut. */
    private final Lines pending = new Lines();
    private final Deque<JsonNode> events = new ArrayDeque<>();
    /** Read buffer; QMP messages are small, longer ones arrive in several reads and are reassembled. */
    private final byte[] buf = new byte[16384];
    private final JsonNode greeting;
    private long nextId;
    /** Told of every event as it is read, whoever reads it (the instance watcher); never null. */
    private volatile java.util.function.Consumer<JsonNode> eventListener = e -> { };
    /** Whether QEMU ended the connection (end of stream or a reset), as opposed to a timeout or our own close. */
    private volatile boolean peerClosed;

    private QmpClient(UnixSocket socket, Path path, Duration timeout) throws QmpException {
        this.socket = socket;
        this.path = path;
        this.timeout = timeout;
        JsonNode hello = readMessage(timeout);
        if (!hello.has("QMP")) {
            throw new QmpException("QMP greeting expected on " + path + ", got " + hello, (String) null);
        }
        this.greeting = hello;
        execute("qmp_capabilities", Map.of());
    }

    /**
     * Connects, reads the greeting and negotiates capabilities, each step within {@code timeout}
     * (a QEMU that is stopped or hung accepts the connection but never greets).
     */
    public static QmpClient connect(Path path, Duration timeout) throws QmpException {
        UnixSocket s;
        try {
            s = UnixSocket.connect(path, timeout);
        } catch (NativeException | IllegalArgumentException e) {
            throw new QmpException("Cannot connect to the QMP socket " + path + ": " + e.getMessage(), e);
        }
        try {
            return new QmpClient(s, path, timeout);
        } catch (QmpException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** Sets the reply timeout of later commands and returns the previous one. */
    public Duration timeout(Duration t) {
        Duration before = timeout;
        timeout = t;
        return before;
    }

    /**
     * Tells {@code listener} of every event from now on, in the thread that reads it (a command,
     * a wait for an event, {@link #pollEvents}); events keep their place in the queue as well.
     * The listener must not use this client.
     */
    public void onEvent(java.util.function.Consumer<JsonNode> listener) {
        this.eventListener = listener;
    }

    /** Whether QEMU closed the connection (the end of the stream, a reset): its process is ending or gone. */
    public boolean peerClosed() {
        return peerClosed;
    }

    /** The connection's socket, for a watcher that waits on several at once; only this client reads it. */
    org.hvkit.netdev.UnixSocket socket() {
        return socket;
    }

    /** QEMU's version from the greeting, e.g. {@code 7.2.22}. */
    public String version() {
        JsonNode q = greeting.path("QMP").path("version").path("qemu");
        return q.path("major").asInt() + "." + q.path("minor").asInt() + "." + q.path("micro").asInt();
    }

    /** Runs a command and returns its {@code return} payload. */
    public JsonNode execute(String command, Map<String, ?> arguments) throws QmpException {
        return execute(command, arguments, List.of());
    }

    /** Runs a command with descriptors attached ({@code SCM_RIGHTS}), e.g. {@code getfd}. */
    public JsonNode execute(String command, Map<String, ?> arguments, List<NativeFd> fds) throws QmpException {
        String id = "hvkit-" + (++nextId);
        ObjectNode msg = MAPPER.createObjectNode();
        msg.put("execute", command);
        if (!arguments.isEmpty()) {
            msg.set("arguments", MAPPER.valueToTree(arguments));
        }
        msg.put("id", id);
        try {
            socket.send((msg + "\n").getBytes(StandardCharsets.UTF_8), fds);
        } catch (NativeException e) {
            peerClosed |= e.errno() == EPIPE || e.errno() == ECONNRESET;
            throw new QmpException("QMP " + command + " on " + path + ": " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode reply = readMessage(remaining(deadline, command));
            if (reply.has("event")) {
                events.add(reply);
                continue;
            }
            if (!id.equals(reply.path("id").asText(null))) {
                continue; // a reply to an earlier command that timed out
            }
            if (reply.has("error")) {
                JsonNode err = reply.get("error");
                throw new QmpException(err.path("desc").asText("QMP error"), err.path("class").asText(null));
            }
            return reply.path("return");
        }
    }

    /** Waits for the next event matching {@code filter} (earlier ones stay queued); null on timeout. */
    public JsonNode awaitEvent(Predicate<JsonNode> filter, Duration wait) throws QmpException {
        for (JsonNode e : events) {
            if (filter.test(e)) {
                events.remove(e);
                return e;
            }
        }
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode msg;
            try {
                msg = readMessage(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            } catch (QmpTimeout t) {
                return null;
            }
            if (msg.has("event")) {
                if (filter.test(msg)) {
                    return msg;
                }
                events.add(msg);
            }
        }
        return null;
    }

    /**
     * Reads whatever QEMU has sent without waiting: events join the queue ({@link #drainEvents}),
     * anything else (a late reply to a command that timed out) is dropped.
     *
     * @throws QmpException when the connection is gone
     */
    public void pollEvents() throws QmpException {
        try {
            // only look: a list of hundreds of instances calls this for each, nearly always for nothing
            while (socket.awaitReadable(Duration.ZERO)) {
                int n = socket.read(buf, Duration.ZERO);
                if (n < 0) {
                    peerClosed = true;
                    queuePendingEvents(); // what QEMU said before it went (its SHUTDOWN) still counts
                    throw new QmpException("QEMU closed the QMP connection " + path, (String) null);
                }
                received(n);
            }
        } catch (NativeException e) {
            peerClosed |= e.errno() == ECONNRESET;
            throw new QmpException("Reading QMP from " + path + ": " + e.getMessage(), e);
        }
        queuePendingEvents();
    }

    private void queuePendingEvents() throws QmpException {
        for (JsonNode msg = nextPending(); msg != null; msg = nextPending()) {
            if (msg.has("event")) {
                events.add(msg);
            }
        }
    }

    /** Events received so far and not yet consumed. */
    public List<JsonNode> drainEvents() {
        List<JsonNode> out = List.copyOf(events);
        events.clear();
        return out;
    }

    private static Duration remaining(long deadline, String command) throws QmpException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new QmpTimeout("QMP " + command + ": no reply in time");
        }
        return Duration.ofNanos(left);
    }

    /** One JSON message (QMP separates them with CRLF); fragments are reassembled, extra messages kept. */
    private JsonNode readMessage(Duration wait) throws QmpException {
        long deadline = System.nanoTime() + wait.toNanos();
        boolean readOnce = false;
        while (true) {
            JsonNode msg = nextPending();
            if (msg != null) {
                return msg;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0 && readOnce) {
                throw new QmpTimeout("No QMP message from " + path + " within " + wait);
            }
            readOnce = true; // a zero wait still takes what has already arrived
            int n;
            try {
                n = socket.read(buf, Duration.ofNanos(Math.max(0, left)));
            } catch (NativeException e) {
                if (e.errno() == 11) {
                    // the socket's receive timeout ran out: the kernel counts it in clock ticks and may
                    // end it up to one tick early, so the loop checks the deadline (a CI run failed
                    // QmpClientTest for a wait of 199.x ms of 200)
                    continue;
                }
                peerClosed |= e.errno() == ECONNRESET;
                throw new QmpException("Reading QMP from " + path + ": " + e.getMessage(), e);
            }
            if (n < 0) {
                peerClosed = true;
                throw new QmpException("QEMU closed the QMP connection " + path, (String) null);
            }
            received(n);
        }
    }

    private void received(int n) throws QmpException {
        pending.append(buf, n);
        if (pending.size() > MAX_MESSAGE_BYTES) {
            pending.clear();
            throw new QmpException("QMP peer " + path + " sent more than " + MAX_MESSAGE_BYTES
                    + " bytes without ending a message", (String) null);
        }
    }

    /** The next complete message already received, or null. */
    private JsonNode nextPending() throws QmpException {
        for (String line = pending.next(); line != null; line = pending.next()) {
            line = line.trim();
            if (line.isEmpty()) {
                continue;
            }
            JsonNode msg;
            try {
                msg = MAPPER.readTree(line);
            } catch (Exception e) {
                throw new QmpException("Malformed QMP message on " + path + ": "
                        + (line.length() > 200 ? line.substring(0, 200) + "…" : line), e);
            }
            if (msg.has("event")) {
                try {
                    eventListener.accept(msg);
                } catch (RuntimeException e) {
                    // a listener's fault must not break the conversation with QEMU
                    org.slf4j.LoggerFactory.getLogger(QmpClient.class).warn("QMP event listener on {}: {}", path,
                            e.toString());
                }
            }
            return msg;
        }
        return null;
    }

    /**
     * Received bytes cut into lines: only the bytes that arrived since the last look are scanned
     * for the newline, so a long message costs linear time (a peer that never ends its line is
     * cut off at {@link #MAX_MESSAGE_BYTES}).
     */
    private static final class Lines {
        private byte[] data = new byte[16384];
        private int start;
        private int end;
        private int scanned;

        int size() {
            return end - start;
        }

        void clear() {
            start = 0;
            end = 0;
            scanned = 0;
        }

        void append(byte[] b, int n) {
            if (end + n > data.length) {
                int live = end - start;
                byte[] to = live + n > data.length ? new byte[Math.max(data.length * 2, live + n)] : data;
                System.arraycopy(data, start, to, 0, live);
                data = to;
                scanned -= start;
                start = 0;
                end = live;
            }
            System.arraycopy(b, 0, data, end, n);
            end += n;
        }

        /** The next complete line (without its newline), or null. */
        String next() {
            for (int i = Math.max(scanned, start); i < end; i++) {
                if (data[i] == '\n') {
                    String line = new String(data, start, i - start, StandardCharsets.UTF_8);
                    start = i + 1;
                    scanned = start;
                    return line;
                }
            }
            scanned = end;
            return null;
        }
    }

    /** Nothing arrived in time. */
    public static final class QmpTimeout extends QmpException {
        private static final long serialVersionUID = 1L;

        QmpTimeout(String message) {
            super(message, (String) null);
        }
    }

    @Override
    public void close() {
        socket.close();
    }
}
