package org.hvkit.kvm.internal.monitor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A scripted QMP peer for unit tests, in the manner of Ganeti's {@code test_monitor.py} fake
 * and libvirt's {@code qemumonitortestutils.c}: it listens on a unix socket, sends a greeting,
 * answers every command with the next {@link Answer} scripted for its name and records what it
 * received. Like QEMU it serves one connection at a time.
 *
 * <p>Script: {@link #on} sets a command's answers; they are used in order and the last one
 * repeats. {@code qmp_capabilities} is answered with {@code {}} unless scripted; any other
 * unscripted command gets QEMU's {@code CommandNotFound}. An answer writes through a
 * {@link Wire}: a reply with the command's id echoed, an error, events before or after the
 * reply, raw (malformed) text, a message cut into pieces written apart, nothing at all, or a
 * hang-up. What one answer writes goes out in one write unless it pauses in between.
 * {@link #push} writes between commands (an event while the client is idle).
 */
public final class FakeQmpPeer implements AutoCloseable, BeforeEachCallback, AfterEachCallback {

    /** QEMU 7.2.22's greeting. */
    public static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2,"
            + " \"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7+deb12u22\"}, \"capabilities\": [\"oob\"]}}";
    /** The timestamp every event carries. */
    public static final long EVENT_SECONDS = 1_700_000_000L;
    public static final long EVENT_MICROS = 123_456L;
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** What the peer does when a command arrives. */
    @FunctionalInterface
    public interface Answer {
        void answer(Wire wire, JsonNode command) throws IOException, InterruptedException;
    }

    private Path path;
    private Path ownDir;
    private ServerSocketChannel server;
    private Thread thread;
    private final Map<String, Deque<Answer>> script = new HashMap<>();
    private final List<JsonNode> received = new ArrayList<>();
    private volatile String greeting = GREETING;
    private Wire current;
    private int accepted;
    private int ended;

    private FakeQmpPeer() {
    }

    /** A peer listening at {@code socket} (a short path, e.g. under {@code @TempDir}). */
    public static FakeQmpPeer start(Path socket) throws IOException {
        FakeQmpPeer p = new FakeQmpPeer();
        p.listen(socket);
        return p;
    }

    /**
     * A peer for each test of a class, listening in a fresh temporary directory from before the
     * test's {@code @BeforeEach} methods to its end: {@code @RegisterExtension final FakeQmpPeer
     * peer = FakeQmpPeer.forEachTest();}
     */
    public static FakeQmpPeer forEachTest() {
        return new FakeQmpPeer();
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        ownDir = Files.createTempDirectory("fake-qmp");
        listen(ownDir.resolve("qmp.sock"));
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException, InterruptedException {
        close();
        Files.deleteIfExists(ownDir);
    }

    private void listen(Path socket) throws IOException {
        this.path = socket;
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        this.thread = new Thread(this::serve, "fake-qmp " + socket);
        thread.setDaemon(true);
        thread.start();
    }

    public Path path() {
        return path;
    }

    /** A client of this peer with a 5 s timeout. */
    public QmpClient connect() throws QmpException {
        return QmpClient.connect(path, Duration.ofSeconds(5));
    }

    /** The first line sent on each connection (without its CRLF); null: send nothing, a peer that never greets. */
    public FakeQmpPeer greeting(String line) {
        this.greeting = line;
        return this;
    }

    /** Sets the answers to {@code command} (replacing earlier ones): used in order, the last one repeats. */
    public synchronized FakeQmpPeer on(String command, Answer... answers) {
        script.put(command, new ArrayDeque<>(Arrays.asList(answers)));
        return this;
    }

    /** Answers with {@code {"return": <json>, "id": <the command's id>}}. */
    public static Answer ok(String returnJson) {
        return (w, c) -> w.reply(returnJson);
    }

    /** Answers with {@code {"error": {"class": .., "desc": ..}, "id": ..}}. */
    public static Answer error(String errorClass, String desc) {
        return (w, c) -> w.error(errorClass, desc);
    }

    /** Does not answer at all. */
    public static Answer silence() {
        return (w, c) -> { };
    }

    /** Closes the connection instead of answering. */
    public static Answer hangUp() {
        return (w, c) -> w.hangUp();
    }

    /** Writes on the current connection between commands, e.g. an event while the client is idle. */
    public void push(Answer what) throws IOException, InterruptedException {
        Wire w;
        synchronized (this) {
            awaitCount(() -> current != null, "a connection");
            w = current;
        }
        what.answer(w, null);
        w.flush();
    }

    /** The commands received so far, in order, on every connection. */
    public synchronized List<JsonNode> received() {
        return List.copyOf(received);
    }

    /** The names of the commands received so far. */
    public synchronized List<String> commands() {
        return received.stream().map(c -> c.path("execute").asText()).toList();
    }

    /** How many times {@code command} arrived. */
    public synchronized long count(String command) {
        return commands().stream().filter(command::equals).count();
    }

    /** Waits until {@code command} has arrived {@code times} times. */
    public synchronized void awaitCommand(String command, int times) throws InterruptedException {
        awaitCount(() -> count(command) >= times, times + " x " + command);
    }

    /** How many connections were accepted. */
    public synchronized int accepted() {
        return accepted;
    }

    /** Whether {@code n} connections have ended (closed by either side) within {@code wait}. */
    public synchronized boolean awaitEnded(int n, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (ended < n) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    private synchronized void awaitCount(java.util.function.BooleanSupplier done, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!done.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("the fake QMP peer saw no " + what + " within " + WAIT);
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    private synchronized Answer next(String command) {
        Deque<Answer> q = script.get(command);
        if (q != null && !q.isEmpty()) {
            return q.size() > 1 ? q.poll() : q.peek();
        }
        return command.equals("qmp_capabilities") ? ok("{}")
                : error("CommandNotFound", "The command " + command + " has not been found");
    }

    private void serve() {
        while (true) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException closed) {
                return;
            }
            Wire conn = new Wire(ch, null);
            synchronized (this) {
                current = conn;
                accepted++;
                notifyAll();
            }
            try {
                String hello = greeting;
                if (hello != null) {
                    conn.raw(hello + "\r\n").flush();
                }
                readCommands(conn);
            } catch (IOException | InterruptedException gone) {
                // the client closed, or an answer hung up
            } finally {
                conn.hangUp();
                synchronized (this) {
                    current = null;
                    ended++;
                    notifyAll();
                }
            }
        }
    }

    private void readCommands(Wire conn) throws IOException, InterruptedException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (conn.ch.read(buf) >= 0) {
            buf.flip();
            while (buf.hasRemaining()) {
                byte b = buf.get();
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                JsonNode cmd = MAPPER.readTree(line.toString(StandardCharsets.UTF_8));
                line.reset();
                synchronized (this) {
                    received.add(cmd);
                    notifyAll();
                }
                Wire w = new Wire(conn.ch, cmd);
                next(cmd.path("execute").asText()).answer(w, cmd);
                w.flush();
            }
            buf.clear();
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        server.close();
        Wire w;
        synchronized (this) {
            w = current;
        }
        if (w != null) {
            w.hangUp();
        }
        thread.join(WAIT.toMillis());
        Files.deleteIfExists(path);
    }

    /** One connection's writing end, answering one command (or none, for {@link #push}). */
    public static final class Wire {
        private final SocketChannel ch;
        private final JsonNode command;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Wire(SocketChannel ch, JsonNode command) {
            this.ch = ch;
            this.command = command;
        }

        /** {@code {"return": <json>, "id": <the command's id>}}. */
        public Wire reply(String returnJson) throws IOException {
            return replyTo(command == null ? null : command.get("id"), returnJson);
        }

        /** A reply with another id, e.g. the late reply to a command that timed out. */
        public Wire replyTo(String id, String returnJson) throws IOException {
            return replyTo(TextNode.valueOf(id), returnJson);
        }

        private Wire replyTo(JsonNode id, String returnJson) throws IOException {
            ObjectNode m = MAPPER.createObjectNode();
            m.set("return", MAPPER.readTree(returnJson));
            return message(m, id);
        }

        /** {@code {"error": {"class": .., "desc": ..}, "id": ..}}. */
        public Wire error(String errorClass, String desc) throws IOException {
            ObjectNode m = MAPPER.createObjectNode();
            m.putObject("error").put("class", errorClass).put("desc", desc);
            return message(m, command == null ? null : command.get("id"));
        }

        private Wire message(ObjectNode m, JsonNode id) throws IOException {
            if (id != null) {
                m.set("id", id);
            }
            return raw(m + "\r\n");
        }

        /** An event stamped {@link #EVENT_SECONDS}.{@link #EVENT_MICROS}; {@code dataJson} null: no data. */
        public Wire event(String name, String dataJson) throws IOException {
            ObjectNode m = MAPPER.createObjectNode();
            m.putObject("timestamp").put("seconds", EVENT_SECONDS).put("microseconds", EVENT_MICROS);
            m.put("event", name);
            if (dataJson != null) {
                m.set("data", MAPPER.readTree(dataJson));
            }
            return raw(m + "\r\n");
        }

        /** Exactly {@code text} (malformed JSON, a missing line end …). */
        public Wire raw(String text) {
            out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
            return this;
        }

        /** {@code text} cut at the given byte offsets (inside a UTF-8 character, too), the pieces written apart. */
        public Wire inPieces(String text, int... byteCuts) throws IOException, InterruptedException {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            int from = 0;
            for (int cut : byteCuts) {
                out.write(b, from, cut - from);
                pause(Duration.ofMillis(30));
                from = cut;
            }
            out.write(b, from, b.length - from);
            return this;
        }

        /** Sends what is pending, then waits. */
        public Wire pause(Duration d) throws IOException, InterruptedException {
            flush();
            Thread.sleep(d.toMillis());
            return this;
        }

        /**
         * Sends what is pending, then closes the connection. The end of the stream is sent
         * before this returns: a close alone is deferred while the serving thread is blocked in
         * a read, and a client looking at once would not see it yet.
         */
        public void hangUp() {
            try {
                flush();
                ch.shutdownOutput();
            } catch (IOException e) {
                // closing anyway
            }
            try {
                ch.close();
            } catch (IOException e) {
                // already closed
            }
        }

        void flush() throws IOException {
            if (out.size() == 0) {
                return;
            }
            ByteBuffer b = ByteBuffer.wrap(out.toByteArray());
            out.reset();
            synchronized (ch) {
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
        }
    }
}
