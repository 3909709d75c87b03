package org.hvkit.kvm.internal.monitor;

import static org.hvkit.kvm.internal.monitor.FakeQmpPeer.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The watcher against a scripted peer: it opens the connection of a watched instance, hears an
 * event nobody asked for, and learns at once — not at its poll's bound — that the peer closed
 * the connection; a watcher closed first hears nothing of connections closed afterwards.
 */
class ConnectionWatcherTest {

    private static final long PID = 4242;

    @RegisterExtension
    final FakeQmpPeer peer = FakeQmpPeer.forEachTest();
    final List<String> heard = new CopyOnWriteArrayList<>();
    final Monitors monitors = new Monitors(Duration.ofSeconds(2));

    private ConnectionWatcher watcher(List<String> vanished) throws Exception {
        monitors.listener(new Monitors.Listener() {
            @Override
            public void event(String name, long pid, JsonNode event) {
                heard.add(name + " " + pid + " " + event.path("event").asText());
            }

            @Override
            public void closedByQemu(String name, long pid) {
                heard.add(name + " " + pid + " closed");
            }
        });
        return new ConnectionWatcher("n", monitors, () -> Map.of("a", PID), name -> peer.path(), pid -> false,
                pid -> false, (name, pid) -> vanished.add(name));
    }

    private void await(String what, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (!heard.contains(what)) {
            assertTrue(System.nanoTime() < deadline, "heard '" + what + "' within " + wait + ": " + heard);
            Thread.sleep(5);
        }
    }

    @Test
    void opensHearsEventsAndNoticesTheCloseAtOnce() throws Exception {
        peer.on("query-status", ok("{\"status\": \"running\", \"running\": true}"));
        List<String> vanished = new CopyOnWriteArrayList<>();
        try (ConnectionWatcher w = watcher(vanished)) {
            w.start();
            peer.awaitCommand("query-status", 1); // it opened the connection by itself
            Thread.sleep(100); // and waits on it
            peer.push((wire, c) -> wire.event("STOP", null));
            await("a 4242 STOP", Duration.ofSeconds(2));
            long t0 = System.nanoTime();
            peer.push((wire, c) -> wire.hangUp());
            await("a 4242 closed", Duration.ofSeconds(2));
            assertTrue(System.nanoTime() - t0 < ConnectionWatcher.IDLE_WAIT.toNanos() / 2,
                    "woken by the close, not by the poll's bound");
        }
        assertEquals(List.of(), vanished, "the connection showed the end: no /proc question needed");
    }

    @Test
    void aWatcherClosedFirstHearsNothingOfTheConnectionsEnd() throws Exception {
        peer.on("query-status", ok("{\"status\": \"running\", \"running\": true}"));
        ConnectionWatcher w = watcher(new CopyOnWriteArrayList<>());
        w.start();
        peer.awaitCommand("query-status", 1);
        w.close();
        monitors.close(); // the hand-over: our own close is no crash
        Thread.sleep(100);
        assertEquals(List.of(), heard);
    }
}
