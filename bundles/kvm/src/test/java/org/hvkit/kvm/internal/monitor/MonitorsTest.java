package org.hvkit.kvm.internal.monitor;

import static org.hvkit.kvm.internal.monitor.FakeQmpPeer.error;
import static org.hvkit.kvm.internal.monitor.FakeQmpPeer.ok;
import static org.hvkit.kvm.internal.monitor.FakeQmpPeer.silence;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.hvkit.hypervisor.HypervisorException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link Monitors} against a scripted peer: the kept connection, its cached state, its lock and its end. */
class MonitorsTest {

    private static final String NAME = "inst1.example.com";
    private static final long PID = 4242;
    private static final Duration WAIT = Duration.ofSeconds(2);

    @RegisterExtension
    final FakeQmpPeer peer = FakeQmpPeer.forEachTest();
    Path sock;
    Monitors monitors = new Monitors(WAIT);

    @BeforeEach
    void socket() {
        sock = peer.path();
    }

    @AfterEach
    void close() {
        monitors.close();
    }

    private static String status(String s) {
        return "{\"status\": \"" + s + "\", \"running\": " + s.equals("running") + "}";
    }

    private String status() {
        return monitors.status(NAME, sock, PID, WAIT);
    }

    @Test
    void theStatusIsCachedUntilAStateEventOrACall() throws Exception {
        peer.on("query-status", ok(status("running")), ok(status("paused")), ok(status("running")))
                .on("cont", ok("{}"));
        assertEquals("running", status());
        assertEquals("running", status());
        assertEquals(1, peer.count("query-status"), "the second reader used the cached state");
        assertEquals(Optional.of(new Monitors.Snapshot(PID, "running")), monitors.snapshot(NAME));

        peer.push((w, c) -> w.event("VNC_CONNECTED", "{\"server\": {}, \"client\": {}}"));
        assertEquals("running", status());
        assertEquals(1, peer.count("query-status"), "an event that changes no run state keeps the cache");

        peer.push((w, c) -> w.event("STOP", null));
        assertEquals("paused", status());
        assertEquals(2, peer.count("query-status"), "STOP made the next reader ask");

        monitors.call(NAME, sock, PID, q -> q.execute("cont", Map.of()));
        assertEquals(Optional.empty(), monitors.snapshot(NAME), "a call forgets the state it may have changed");
        assertEquals("running", status());
        assertEquals(3, peer.count("query-status"));
        assertEquals(1, peer.accepted(), "one kept connection for all of it");
    }

    /** Runs a call on another thread that holds the monitor until {@code release} opens. */
    private CompletableFuture<String> holder(CountDownLatch release) throws InterruptedException {
        CountDownLatch inside = new CountDownLatch(1);
        CompletableFuture<String> done = CompletableFuture.supplyAsync(() -> {
            try {
                return monitors.call(NAME, sock, PID, q -> {
                    inside.countDown();
                    await(release);
                    return "held";
                });
            } catch (HypervisorException e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(inside.await(10, TimeUnit.SECONDS), "the holder got the monitor");
        return done;
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aReaderSeesBusyAndACallerGivesUpWhileAnotherUserHoldsTheMonitor() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> held = holder(release);
        assertEquals(Monitors.BUSY, status());
        assertEquals(Optional.empty(), monitors.snapshot(NAME));
        long t0 = System.nanoTime();
        QmpException e = assertThrows(QmpException.class,
                () -> monitors.call(NAME, sock, PID, Duration.ofMillis(100), q -> "never"));
        assertEquals("The QMP monitor of " + NAME + " is busy with another operation", e.getMessage());
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "gave up after its own wait");
        release.countDown();
        assertEquals("held", held.get(10, TimeUnit.SECONDS));
        assertEquals(0, peer.count("query-status"), "the busy reader sent nothing");
    }

    @Test
    void afterCloseEveryConnectionIsGoneAndNoneOpensAgain() throws Exception {
        peer.on("query-status", ok(status("running")));
        assertEquals("running", status());
        assertEquals(1, monitors.open());
        monitors.close();
        assertEquals(0, monitors.open());
        assertTrue(peer.awaitEnded(1, WAIT), "the kept connection was closed");
        QmpException e = assertThrows(QmpException.class, () -> monitors.call(NAME, sock, PID, q -> "never"));
        assertEquals("QMP connections are closed: the KVM hypervisor component is stopping", e.getMessage());
        assertNull(status(), "a reader gets nothing");
        assertEquals(1, peer.accepted(), "nothing connected after the close");
    }

    @Test
    void forgetDoesNotWaitForTheUserWhoDropsTheConnectionWhenDone() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> held = holder(release);
        long t0 = System.nanoTime();
        monitors.forget(NAME);
        assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "forget did not queue behind the user");
        assertEquals(1, monitors.open(), "the user still has it");
        assertFalse(peer.awaitEnded(1, Duration.ofMillis(50)));
        release.countDown();
        assertEquals("held", held.get(10, TimeUnit.SECONDS));
        assertEquals(0, monitors.open(), "the user dropped it");
        assertTrue(peer.awaitEnded(1, WAIT));
        monitors.call(NAME, sock, PID, q -> "again");
        assertEquals(2, peer.accepted(), "the next user connects anew");
    }

    @Test
    void aCommandErrorKeepsTheConnectionATransportFailureDropsIt() throws Exception {
        peer.on("stop", error("GenericError", "Guest is not running"), silence());
        QmpException e = assertThrows(QmpException.class,
                () -> monitors.call(NAME, sock, PID, q -> q.execute("stop", Map.of())));
        assertEquals("Guest is not running", e.getMessage());
        assertEquals(1, monitors.open(), "QEMU answered: the connection is fine");
        e = assertThrows(QmpException.class,
                () -> monitors.call(NAME, sock, PID, Duration.ofMillis(150), q -> q.execute("stop", Map.of())));
        assertTrue(e.getMessage().startsWith("No QMP message from " + sock), e.getMessage());
        assertEquals(0, monitors.open(), "a timeout leaves the connection in doubt: dropped");
        assertTrue(peer.awaitEnded(1, WAIT));
        assertEquals("x", monitors.call(NAME, sock, PID, q -> "x"));
        assertEquals(2, peer.accepted());
    }

    @Test
    void aNewProcessGetsANewConnection() throws Exception {
        monitors.call(NAME, sock, PID, q -> "first");
        monitors.call(NAME, sock, PID, q -> "same pid");
        assertEquals(1, peer.accepted());
        monitors.call(NAME, sock, PID + 1, q -> "another process");
        assertEquals(2, peer.accepted());
        assertTrue(peer.awaitEnded(1, WAIT), "the old process's connection was closed");
    }

    /**
     * A reader ({@link Monitors#status}) holding the monitor when {@link Monitors#close} gives
     * up waiting must drop the connection when it ends, as a {@link Monitors#call} user does:
     * else the closed component keeps the one connection QEMU serves and its successor is never
     * greeted.
     */
    @Test
    void aSlowReaderDropsItsConnectionWhenCloseGaveUpWaiting() throws Exception {
        monitors.close();
        monitors = new Monitors(Duration.ofMillis(300));
        peer.on("query-status", (w, c) -> w.pause(Duration.ofMillis(1500)).reply(status("running")));
        CompletableFuture<String> reader = CompletableFuture.supplyAsync(() -> status());
        peer.awaitCommand("query-status", 1);
        monitors.close(); // waits 300 ms for the reader, then leaves the drop to it
        assertEquals("running", reader.get(10, TimeUnit.SECONDS));
        assertEquals(0, monitors.open(), "the closed component keeps no connection");
        assertTrue(peer.awaitEnded(1, WAIT), "QEMU is free for the successor");
    }
}
