package org.hvkit.kvm.internal.monitor;

import static org.hvkit.kvm.internal.monitor.FakeQmpPeer.error;
import static org.hvkit.kvm.internal.monitor.FakeQmpPeer.hangUp;
import static org.hvkit.kvm.internal.monitor.FakeQmpPeer.ok;
import static org.hvkit.kvm.internal.monitor.FakeQmpPeer.silence;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link QmpClient} against a scripted peer: the protocol, its failures and their exact messages. */
class QmpClientTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String RUNNING = "{\"status\": \"running\", \"singlestep\": false, \"running\": true}";

    @RegisterExtension
    final FakeQmpPeer peer = FakeQmpPeer.forEachTest();
    Path sock;

    @BeforeEach
    void socket() {
        sock = peer.path();
    }

    static JsonNode json(String s) throws Exception {
        return MAPPER.readTree(s);
    }

    /** {@code No QMP message from <sock> within <what is left of the timeout>}: the duration is not the one configured. */
    private void assertNoMessageWithin(QmpException e) {
        assertInstanceOf(QmpClient.QmpTimeout.class, e);
        assertTrue(Pattern.matches(Pattern.quote("No QMP message from " + sock + " within PT") + "0\\.\\d+S",
                e.getMessage()), e.getMessage());
    }

    @Test
    void greetingThenCapabilitiesWithTheFirstId() throws Exception {
        try (QmpClient qmp = peer.connect()) {
            assertEquals("7.2.22", qmp.version());
        }
        assertEquals(List.of(json("{\"execute\": \"qmp_capabilities\", \"id\": \"hvkit-1\"}")), peer.received());
    }

    @Test
    void somethingElseThanAGreetingIsRefusedAndTheSocketClosed() throws Exception {
        peer.greeting("{\"return\": {}}");
        QmpException e = assertThrows(QmpException.class, peer::connect);
        assertEquals("QMP greeting expected on " + sock + ", got {\"return\":{}}", e.getMessage());
        assertNull(e.errorClass());
        assertTrue(peer.awaitEnded(1, Duration.ofSeconds(5)), "the client closed its socket");
        assertEquals(List.of(), peer.commands());
    }

    @Test
    void refusedCapabilitiesFailTheConnect() throws Exception {
        peer.on("qmp_capabilities", error("GenericError", "Capabilities negotiation is already complete"));
        QmpException e = assertThrows(QmpException.class, peer::connect);
        assertEquals("Capabilities negotiation is already complete", e.getMessage());
        assertEquals("GenericError", e.errorClass());
        assertTrue(peer.awaitEnded(1, Duration.ofSeconds(5)), "the client closed its socket");
    }

    @Test
    void noSocket() {
        Path none = sock.resolveSibling("none.sock");
        QmpException e = assertThrows(QmpException.class, () -> QmpClient.connect(none, Duration.ofSeconds(1)));
        assertEquals("Cannot connect to the QMP socket " + none + ": connect to " + none
                + ": No such file or directory (errno 2)", e.getMessage());
    }

    @Test
    void aPeerThatNeverGreetsTimesOut() throws Exception {
        peer.greeting(null);
        long t0 = System.nanoTime();
        QmpException e = assertThrows(QmpException.class, () -> QmpClient.connect(sock, Duration.ofMillis(200)));
        assertInstanceOf(QmpClient.QmpTimeout.class, e);
        assertEquals("No QMP message from " + sock + " within PT0.2S", e.getMessage());
        assertTrue(System.nanoTime() - t0 >= 200_000_000L, "waited the whole timeout");
    }

    @Test
    void commandsCarryIncreasingIdsAndArgumentsOnlyWhenThereAreAny() throws Exception {
        peer.on("query-status", ok(RUNNING)).on("migrate", ok("{}"));
        try (QmpClient qmp = peer.connect()) {
            assertEquals(json(RUNNING), qmp.execute("query-status", Map.of()));
            assertEquals(json("{}"), qmp.execute("migrate", Map.of("uri", "tcp:192.0.2.1:8102")));
        }
        assertEquals(List.of(json("{\"execute\": \"qmp_capabilities\", \"id\": \"hvkit-1\"}"),
                json("{\"execute\": \"query-status\", \"id\": \"hvkit-2\"}"),
                json("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:192.0.2.1:8102\"}, \"id\": \"hvkit-3\"}")),
                peer.received());
    }

    @Test
    void anErrorReplyCarriesQemusTextAndClassAndKeepsTheConnection() throws Exception {
        peer.on("stop", error("GenericError", "Guest is not running"), ok("{}"));
        try (QmpClient qmp = peer.connect()) {
            QmpException e = assertThrows(QmpException.class, () -> qmp.execute("stop", Map.of()));
            assertEquals("Guest is not running", e.getMessage());
            assertEquals("GenericError", e.errorClass());
            assertEquals(json("{}"), qmp.execute("stop", Map.of()));
            e = assertThrows(QmpException.class, () -> qmp.execute("no-such-command", Map.of()));
            assertEquals("The command no-such-command has not been found", e.getMessage());
            assertEquals("CommandNotFound", e.errorClass());
        }
    }

    @Test
    void aLateReplyToATimedOutCommandIsSkipped() throws Exception {
        peer.on("query-status", silence(),
                (w, c) -> w.replyTo("hvkit-2", "{\"status\": \"paused\"}").reply(RUNNING));
        try (QmpClient qmp = peer.connect()) {
            Duration before = qmp.timeout(Duration.ofMillis(150));
            assertEquals(Duration.ofSeconds(5), before, "timeout() returns the previous timeout");
            assertNoMessageWithin(assertThrows(QmpException.class, () -> qmp.execute("query-status", Map.of())));
            assertEquals("running", qmp.execute("query-status", Map.of()).path("status").asText(),
                    "the reply to hvkit-2 is not taken for hvkit-3's");
        }
    }

    @Test
    void eventsAroundAReplyAreQueued() throws Exception {
        peer.on("query-status", (w, c) -> w.event("STOP", null).reply(RUNNING)
                .event("RESUME", null));
        try (QmpClient qmp = peer.connect()) {
            assertEquals(json(RUNNING), qmp.execute("query-status", Map.of()));
            assertEquals(List.of(event("STOP")), qmp.drainEvents(), "the event before the reply");
            assertEquals(List.of(), qmp.drainEvents(), "drained");
            qmp.pollEvents();
            assertEquals(List.of(event("RESUME")), qmp.drainEvents(), "the event after the reply, read by the poll");
        }
    }

    private static JsonNode event(String name) throws Exception {
        return json("{\"timestamp\": {\"seconds\": " + FakeQmpPeer.EVENT_SECONDS + ", \"microseconds\": "
                + FakeQmpPeer.EVENT_MICROS + "}, \"event\": \"" + name + "\"}");
    }

    @Test
    void pollEventsTakesEventsDropsLateRepliesAndNeverWaits() throws Exception {
        try (QmpClient qmp = peer.connect()) {
            long t0 = System.nanoTime();
            qmp.pollEvents();
            assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "nothing sent: no wait");
            assertEquals(List.of(), qmp.drainEvents());
            peer.push((w, c) -> w.event("SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-shutdown\"}")
                    .replyTo("hvkit-99", "{}").event("STOP", null));
            qmp.pollEvents();
            List<JsonNode> events = qmp.drainEvents();
            assertEquals(List.of("SHUTDOWN", "STOP"), events.stream().map(e -> e.path("event").asText()).toList());
            assertEquals("guest-shutdown", events.get(0).path("data").path("reason").asText());
        }
    }

    @Test
    void awaitEventTakesTheMatchingOneAndKeepsTheOthers() throws Exception {
        try (QmpClient qmp = peer.connect()) {
            peer.push((w, c) -> w.event("STOP", null).event("RESUME", null));
            assertEquals(event("RESUME"), qmp.awaitEvent(e -> e.path("event").asText().equals("RESUME"),
                    Duration.ofSeconds(5)));
            assertNull(qmp.awaitEvent(e -> e.path("event").asText().equals("RESUME"), Duration.ofMillis(100)),
                    "no second RESUME: null after the wait");
            assertEquals(event("STOP"), qmp.awaitEvent(e -> e.path("event").asText().equals("STOP"),
                    Duration.ZERO), "a queued event is found without waiting");
            assertEquals(List.of(), qmp.drainEvents());
        }
    }

    @Test
    void aMalformedReplyNamesTheLine() throws Exception {
        peer.on("query-status", (w, c) -> w.raw("{\"return\": {\"status\": \r\n"));
        try (QmpClient qmp = peer.connect()) {
            QmpException e = assertThrows(QmpException.class, () -> qmp.execute("query-status", Map.of()));
            assertEquals("Malformed QMP message on " + sock + ": {\"return\": {\"status\":", e.getMessage());
            assertNull(e.errorClass());
        }
    }

    @Test
    void aMalformedGreetingNamesTheLine() throws Exception {
        peer.greeting("QEMU 7.2 monitor - type 'help' for more information");
        QmpException e = assertThrows(QmpException.class, peer::connect);
        assertEquals("Malformed QMP message on " + sock + ": QEMU 7.2 monitor - type 'help' for more information",
                e.getMessage());
    }

    @Test
    void aMessageSplitAcrossWritesIsReassembledEvenInsideACharacter() throws Exception {
        String reply = "{\"return\": {\"status\": \"running\", \"note\": \"Gerät ✓\"}, \"id\": \"hvkit-2\"}\r\n";
        int inUmlaut = reply.indexOf('ä') + 1; // bytes and chars agree up to there: ASCII
        peer.on("query-status", (w, c) -> w.inPieces(reply, 5, inUmlaut, reply.length() - 2));
        try (QmpClient qmp = peer.connect()) {
            assertEquals("Gerät ✓", qmp.execute("query-status", Map.of()).path("note").asText());
        }
    }

    @Test
    void aLongReplyArrivesInManyReads() throws Exception {
        String big = "x".repeat(200_000);
        peer.on("human-monitor-command", ok("\"" + big + "\""));
        try (QmpClient qmp = peer.connect()) {
            assertEquals(big, qmp.execute("human-monitor-command", Map.of("command-line", "info")).asText());
        }
    }

    @Test
    void aPeerThatClosesWhileACommandWaits() throws Exception {
        peer.on("query-status", hangUp());
        try (QmpClient qmp = peer.connect()) {
            QmpException e = assertThrows(QmpException.class, () -> qmp.execute("query-status", Map.of()));
            assertEquals("QEMU closed the QMP connection " + sock, e.getMessage());
            assertNull(e.errorClass());
        }
    }

    @Test
    void theLastEventBeforeTheCloseReachesTheListenerAndTheCloseIsThePeers() throws Exception {
        try (QmpClient qmp = peer.connect()) {
            List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
            qmp.onEvent(e -> heard.add(e.path("event").asText()));
            assertFalse(qmp.peerClosed());
            // QEMU's last words and its exit arrive in one read: the event still counts
            peer.push((w, c) -> {
                w.event("SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
                w.hangUp();
            });
            Thread.sleep(100);
            assertThrows(QmpException.class, qmp::pollEvents);
            assertEquals(List.of("SHUTDOWN"), heard);
            assertEquals(List.of("SHUTDOWN"), qmp.drainEvents().stream().map(e -> e.path("event").asText()).toList());
            assertTrue(qmp.peerClosed(), "QEMU closed it");
        }
    }

    @Test
    void aCloseHereIsNotThePeers() throws Exception {
        QmpClient qmp = peer.connect();
        qmp.close();
        assertFalse(qmp.peerClosed());
    }

    @Test
    void pollEventsNoticesAClosedPeer() throws Exception {
        try (QmpClient qmp = peer.connect()) {
            peer.push((w, c) -> w.hangUp());
            QmpException e = assertThrows(QmpException.class, qmp::pollEvents);
            assertEquals("QEMU closed the QMP connection " + sock, e.getMessage());
        }
    }

    @Test
    void aSilentPeerTimesOutAfterTheCommandsTimeout() throws Exception {
        peer.on("query-status", silence());
        try (QmpClient qmp = peer.connect()) {
            qmp.timeout(Duration.ofMillis(200));
            long t0 = System.nanoTime();
            QmpException e = assertThrows(QmpException.class, () -> qmp.execute("query-status", Map.of()));
            long took = System.nanoTime() - t0;
            assertNoMessageWithin(e);
            assertNull(e.errorClass());
            assertTrue(took >= 190_000_000L && took < 5_000_000_000L, "took " + took / 1_000_000 + " ms");
        }
    }

    @Test
    void eventsWithoutEndDoNotExtendTheTimeout() throws Exception {
        peer.on("query-status", (w, c) -> {
            for (int i = 0; i < 8; i++) {
                w.event("RTC_CHANGE", "{\"offset\": " + i + "}").pause(Duration.ofMillis(50));
            }
        });
        try (QmpClient qmp = peer.connect()) {
            qmp.timeout(Duration.ofMillis(150));
            long t0 = System.nanoTime();
            QmpException e = assertThrows(QmpException.class, () -> qmp.execute("query-status", Map.of()));
            assertTrue(System.nanoTime() - t0 < 380_000_000L, "events do not restart the command's timeout");
            assertInstanceOf(QmpClient.QmpTimeout.class, e);
            assertTrue(e.getMessage().equals("QMP query-status: no reply in time")
                    || e.getMessage().startsWith("No QMP message from " + sock + " within PT0."), e.getMessage());
            assertTrue(qmp.drainEvents().size() >= 2, "the events that came meanwhile are queued");
        }
    }

    @Test
    void aPeerThatNeverEndsAMessageIsCutOffAtTheLimit() throws Exception {
        int limit = QmpClient.MAX_MESSAGE_BYTES;
        peer.on("query-status", (w, c) -> w.raw("{\"return\": \"" + "y".repeat(limit) + "\"}"));
        try (QmpClient qmp = peer.connect()) {
            qmp.timeout(Duration.ofSeconds(60));
            long t0 = System.nanoTime();
            QmpException e = assertThrows(QmpException.class, () -> qmp.execute("query-status", Map.of()));
            System.out.println("a " + limit + "-byte message without an end was refused after "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms");
            assertEquals("QMP peer " + sock + " sent more than " + limit + " bytes without ending a message",
                    e.getMessage());
        }
    }
}
