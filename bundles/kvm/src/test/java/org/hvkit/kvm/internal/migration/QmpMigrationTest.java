package org.hvkit.kvm.internal.migration;

import static org.hvkit.kvm.internal.monitor.FakeQmpPeer.error;
import static org.hvkit.kvm.internal.monitor.FakeQmpPeer.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.MigrationStatus;
import org.hvkit.hypervisor.MigrationStatus.Phase;
import org.hvkit.hypervisor.MigrationStatus.State;
import org.hvkit.kvm.internal.monitor.FakeQmpPeer;
import org.hvkit.kvm.internal.monitor.QmpClient;
import org.hvkit.kvm.internal.monitor.QmpException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The source side of a migration ({@link QmpMigration#run}) against a scripted QEMU. */
class QmpMigrationTest {

    private static final String NAME = "inst1.example.com";
    private static final String TARGET = "192.0.2.7";
    private static final List<String> SETUP = List.of("qmp_capabilities", "migrate-set-parameters",
            "migrate-set-capabilities", "migrate");

    @RegisterExtension
    final FakeQmpPeer peer = FakeQmpPeer.forEachTest();
    QmpClient qmp;
    final List<MigrationStatus> progress = new ArrayList<>();

    @BeforeEach
    void connect() throws Exception {
        for (String c : List.of("stop", "cont", "migrate-set-parameters", "migrate-set-capabilities", "migrate_cancel")) {
            peer.on(c, ok("{}"));
        }
        qmp = peer.connect();
    }

    @AfterEach
    void disconnect() {
        qmp.close();
    }

    private static String migration(String status) {
        return "{\"status\": \"" + status + "\"}";
    }

    private static String queryMigrate(String status, long transferred, long remaining, long total) {
        return "{\"status\": \"" + status + "\", \"ram\": {\"transferred\": " + transferred + ", \"remaining\": "
                + remaining + ", \"total\": " + total + "}}";
    }

    /** A pre-copy status as query-migrate's "active" gives it (no dirty rate, no expected downtime in the answer). */
    private static MigrationStatus active(long transferred, long remaining, long total) {
        return new MigrationStatus(State.ACTIVE, transferred, remaining, total, -1, null, Phase.PRE_COPY, -1, -1);
    }

    private Instant run(boolean live, Duration timeout, Supplier<String> cancelReason) throws HypervisorException {
        return QmpMigration.run(qmp, NAME, TARGET, 8102, live, 32, 30, timeout, progress::add, cancelReason);
    }

    private Instant run(boolean live) throws HypervisorException {
        return run(live, Duration.ofSeconds(30), () -> null);
    }

    private static List<String> with(List<String> head, String... tail) {
        List<String> out = new ArrayList<>(head);
        out.addAll(List.of(tail));
        return out;
    }

    @Test
    void completedThroughTheEventReturnsQemusTimestamp() throws Exception {
        peer.on("migrate", (w, c) -> w.reply("{}").event("MIGRATION", migration("setup"))
                .event("MIGRATION", migration("active")).event("MIGRATION", migration("completed")));
        peer.on("query-migrate", ok(queryMigrate("setup", 0, 0, 0)), ok(queryMigrate("active", 1024, 3072, 4096)));

        Instant done = run(true);

        assertEquals(Instant.ofEpochSecond(FakeQmpPeer.EVENT_SECONDS, FakeQmpPeer.EVENT_MICROS * 1000), done);
        assertEquals(List.of(new MigrationStatus(State.SETUP, 0, 0, 0), active(1024, 3072,
                4096)), progress, "every event short of the end polls once, for progress");
        assertEquals(with(SETUP, "query-migrate", "query-migrate"), peer.commands());
        List<JsonNode> sent = peer.received();
        ObjectMapper m = new ObjectMapper();
        assertEquals(m.readTree("{\"max-bandwidth\": 33554432, \"downtime-limit\": 30}"), sent.get(1).get("arguments"));
        assertEquals(m.readTree("{\"capabilities\": [{\"capability\": \"events\", \"state\": true}]}"),
                sent.get(2).get("arguments"));
        assertEquals(m.readTree("{\"uri\": \"tcp:" + TARGET + ":8102\"}"), sent.get(3).get("arguments"));
    }

    @Test
    void completedThroughPollingWhenNoEventComes() throws Exception {
        peer.on("migrate", ok("{}"));
        peer.on("query-migrate", ok(queryMigrate("active", 10, 90, 100)), ok(queryMigrate("completed", 100, 0, 100)));

        assertNull(run(true), "no event, no timestamp");

        assertEquals(List.of(active(10, 90, 100),
                new MigrationStatus(State.COMPLETED, 100, 0, 100)), progress);
        assertEquals(with(SETUP, "query-migrate", "query-migrate"), peer.commands());
    }

    @Test
    void aFailureCarriesQemusErrorText() throws Exception {
        peer.on("migrate", (w, c) -> w.reply("{}").event("MIGRATION", migration("failed")));
        peer.on("query-migrate", ok("{\"status\": \"failed\", \"error-desc\": \"Unable to write to socket: Broken pipe\"}"));

        HypervisorException e = assertThrows(HypervisorException.class, () -> run(true));

        assertEquals("Migration failed at the kvm level: Unable to write to socket: Broken pipe", e.getMessage());
        assertEquals(with(SETUP, "query-migrate"), peer.commands(), "a live source is neither cancelled nor resumed");
    }

    @Test
    void aFailureSeenByPollingWithoutErrorText() throws Exception {
        peer.on("migrate", ok("{}"));
        peer.on("query-migrate", ok(queryMigrate("failed", 5, 0, 100)));

        HypervisorException e = assertThrows(HypervisorException.class, () -> run(true));

        assertEquals("Migration failed at the kvm level", e.getMessage());
        assertEquals(List.of(new MigrationStatus(State.FAILED, 5, 0, 100)), progress);
    }

    @Test
    void aTimeoutCancelsTheMigration() throws Exception {
        peer.on("migrate", ok("{}"));
        peer.on("query-migrate", ok(queryMigrate("active", 1, 99, 100)));
        long t0 = System.nanoTime();

        HypervisorException e = assertThrows(HypervisorException.class,
                () -> run(true, Duration.ofMillis(300), () -> null));

        assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
        assertEquals("Migration of " + NAME + " to " + TARGET + " did not complete within PT0.3S; cancelled",
                e.getMessage());
        List<String> sent = peer.commands();
        assertEquals("migrate_cancel", sent.get(sent.size() - 1));
        assertEquals(1, peer.count("migrate_cancel"));
    }

    @Test
    void aCancelReasonCancelsTheMigrationAndSaysWhy() throws Exception {
        peer.on("migrate", ok("{}"));
        peer.on("query-migrate", ok(queryMigrate("active", 1, 99, 100)));
        int[] asked = {0};

        HypervisorException e = assertThrows(HypervisorException.class, () -> run(true, Duration.ofSeconds(30),
                () -> ++asked[0] < 2 ? null : "the node is being handed over"));

        assertEquals("Migration of " + NAME + " to " + TARGET + " cancelled: the node is being handed over;"
                + " the instance keeps running on the source", e.getMessage());
        assertEquals(with(SETUP, "query-migrate", "migrate_cancel"), peer.commands());
    }

    @Test
    void aNonLiveSourceIsStoppedFirstAndResumedOnFailure() throws Exception {
        peer.on("migrate", (w, c) -> w.reply("{}").event("MIGRATION", migration("failed")));
        peer.on("query-migrate", ok("{\"status\": \"failed\", \"error-desc\": \"Connection refused\"}"));

        HypervisorException e = assertThrows(HypervisorException.class, () -> QmpMigration.run(qmp, NAME, TARGET,
                8102, false, 0, 0, Duration.ofSeconds(30), progress::add, () -> null));

        assertEquals("Migration failed at the kvm level: Connection refused", e.getMessage());
        assertEquals(List.of("qmp_capabilities", "stop", "migrate-set-capabilities", "migrate", "query-migrate",
                "cont"), peer.commands(), "no parameters to set when bandwidth and downtime are 0; resumed last");
    }

    @Test
    void aNonLiveSourceIsResumedWhenTheTimeoutCancels() throws Exception {
        peer.on("migrate", ok("{}"));
        peer.on("query-migrate", ok(queryMigrate("active", 1, 99, 100)));

        assertThrows(HypervisorException.class, () -> run(false, Duration.ofMillis(200), () -> null));

        List<String> sent = peer.commands();
        assertEquals("stop", sent.get(1));
        assertEquals(List.of("migrate_cancel", "cont"), sent.subList(sent.size() - 2, sent.size()));
    }

    @Test
    void aRefusedMigrateResumesTheSourceAndAFailedResumeRidesAlong() throws Exception {
        peer.on("migrate", error("GenericError", "There's a migration process in progress"));
        peer.on("cont", error("GenericError", "Resetting the Virtual Machine is required"));

        QmpException e = assertThrows(QmpException.class, () -> run(false));

        assertEquals("There's a migration process in progress", e.getMessage());
        assertEquals(1, e.getSuppressed().length);
        assertEquals("Resetting the Virtual Machine is required", e.getSuppressed()[0].getMessage());
        assertEquals(with(List.of("qmp_capabilities", "stop"), "migrate-set-parameters", "migrate-set-capabilities",
                "migrate", "cont"), peer.commands());
    }

    @Test
    void statusMapsQemusStates() throws Exception {
        String[][] cases = {{"none", "NONE"}, {"setup", "SETUP"}, {"active", "ACTIVE"}, {"pre-switchover", "ACTIVE"},
            {"device", "ACTIVE"}, {"postcopy-active", "ACTIVE"}, {"wait-unplug", "ACTIVE"}, {"completed", "COMPLETED"},
            {"failed", "FAILED"}, {"cancelling", "CANCELLED"}, {"cancelled", "CANCELLED"}, {"colo", "NONE"}};
        List<FakeQmpPeer.Answer> answers = new ArrayList<>();
        for (String[] c : cases) {
            answers.add(ok(migration(c[0])));
        }
        answers.add(ok("{}"));
        peer.on("query-migrate", answers.toArray(FakeQmpPeer.Answer[]::new));
        for (String[] c : cases) {
            assertEquals(State.valueOf(c[1]), QmpMigration.status(qmp).status(), c[0]);
        }
        assertEquals(State.NONE, QmpMigration.status(qmp).status(), "no status at all: no migration");
    }

    @Test
    void aCompletedMigrationKeepsQemusDowntimeAndHostileFiguresAreNotBelieved() throws Exception {
        peer.on("query-migrate",
                ok("{\"status\": \"completed\", \"downtime\": 37, \"ram\": {\"transferred\": 100, \"total\": 100}}"),
                ok("{\"status\": \"active\", \"downtime\": 37, \"ram\": {\"transferred\": 5, \"total\": 100}}"),
                ok("{\"status\": \"completed\", \"downtime\": -5, \"ram\": {\"transferred\": -1, \"total\": -9}}"),
                ok("{\"status\": \"completed\", \"downtime\": \"soon\"}"));
        assertEquals(new MigrationStatus(State.COMPLETED, 100, 0, 100, 37, null, Phase.NONE, -1, -1), QmpMigration.status(qmp));
        assertEquals(-1, QmpMigration.status(qmp).downtimeMillis(), "no downtime before the end");
        assertEquals(new MigrationStatus(State.COMPLETED, 0, 0, 0, -1, null, Phase.NONE, -1, -1), QmpMigration.status(qmp),
                "negative figures are not believed");
        assertEquals(-1, QmpMigration.status(qmp).downtimeMillis(), "a downtime that is not a number is unknown");
        Instant at = Instant.parse("2026-12-01T10:00:00Z");
        assertEquals(new MigrationStatus(State.COMPLETED, 100, 0, 100, 37, at, Phase.NONE, -1, -1),
                new MigrationStatus(State.ACTIVE, 100, 0, 100).completed(37, at));
    }

    private static String offered(String... names) {
        StringBuilder b = new StringBuilder("[");
        for (String n : names) {
            b.append(b.length() > 1 ? "," : "").append("{\"capability\": \"").append(n).append("\", \"state\": false}");
        }
        return b.append("]").toString();
    }

    private Instant runWith(List<String> caps) throws HypervisorException {
        return QmpMigration.run(qmp, NAME, TARGET, 8102, true, 32, 30, caps, Duration.ofSeconds(30), progress::add,
                () -> null);
    }

    @Test
    void migrationCapsAreCheckedAndSwitchedOnWithTheEventsCapability() throws Exception {
        peer.on("query-migrate-capabilities", ok(offered("xbzrle", "auto-converge", "events", "postcopy-ram")));
        peer.on("migrate", (w, c) -> w.reply("{}").event("MIGRATION", migration("completed")));
        runWith(List.of("xbzrle", "auto-converge"));
        JsonNode set = peer.received().stream().filter(m -> m.path("execute").asText().equals("migrate-set-capabilities"))
                .findFirst().orElseThrow();
        assertEquals(new ObjectMapper().readTree("{\"capabilities\": [{\"capability\": \"events\", \"state\": true},"
                + " {\"capability\": \"xbzrle\", \"state\": true}, {\"capability\": \"auto-converge\","
                + " \"state\": true}]}"), set.get("arguments"));
    }

    @Test
    void theNodesTuningReachesMigrateSetParametersBeforeTheCapabilities() throws Exception {
        peer.on("query-migrate-capabilities", ok(offered("xbzrle", "multifd", "events")));
        peer.on("migrate", (w, c) -> w.reply("{}").event("MIGRATION", migration("completed")));
        QmpMigration.run(qmp, NAME, TARGET, 8102, true, 32, 30, List.of("multifd", "xbzrle"),
                new MigrationTuning(3, 16), Duration.ofSeconds(30), progress::add, () -> null);
        JsonNode set = peer.received().stream().filter(m -> m.path("execute").asText().equals("migrate-set-parameters"))
                .findFirst().orElseThrow();
        assertEquals(new ObjectMapper().readTree("{\"multifd-channels\": 3, \"xbzrle-cache-size\": 16777216,"
                + " \"max-bandwidth\": 33554432, \"downtime-limit\": 30}"), set.get("arguments"));
        assertTrue(peer.commands().indexOf("migrate-set-parameters") < peer.commands().indexOf("migrate-set-capabilities"),
                peer.commands().toString());
    }

    @Test
    void anUnknownCapabilityIsRefusedNamingWhatQemuHasBeforeAnythingMoves() throws Exception {
        peer.on("query-migrate-capabilities", ok(offered("xbzrle", "events", "bad name")));
        HypervisorException e = assertThrows(HypervisorException.class, () -> runWith(List.of("xbzrle", "turbo")));
        assertEquals("migration_caps: this QEMU has no migration capability 'turbo'; it has: events, xbzrle",
                e.getMessage());
        assertTrue(!peer.commands().contains("migrate"), "nothing migrated: " + peer.commands());
    }

    @Test
    void postcopySwitchesAfterTwoPassesAndAFailureThenIsNotResumed() throws Exception {
        peer.on("query-migrate-capabilities", ok(offered("postcopy-ram", "events")));
        peer.on("migrate", ok("{}"));
        peer.on("migrate-start-postcopy", ok("{}"));
        String pass1 = "{\"status\": \"active\", \"ram\": {\"transferred\": 10, \"total\": 100, \"dirty-sync-count\": 1}}";
        String pass2 = "{\"status\": \"active\", \"ram\": {\"transferred\": 50, \"total\": 100, \"dirty-sync-count\": 2}}";
        peer.on("query-migrate", ok(pass1), ok(pass2), ok(pass2), ok(queryMigrate("completed", 100, 0, 100)));
        runWith(List.of("postcopy-ram"));
        assertEquals(1, peer.commands().stream().filter("migrate-start-postcopy"::equals).count(),
                "switched once, after the second pass: " + peer.commands());
        assertTrue(peer.commands().indexOf("migrate-start-postcopy") > peer.commands().indexOf("query-migrate") + 1,
                peer.commands().toString());
    }

    @Test
    void aFailureAfterTheSwitchToPostcopySaysTheSourceMustNotBeResumed() throws Exception {
        peer.on("query-migrate-capabilities", ok(offered("postcopy-ram", "events")));
        peer.on("migrate", ok("{}"));
        peer.on("migrate-start-postcopy", ok("{}"));
        String pass2 = "{\"status\": \"active\", \"ram\": {\"transferred\": 50, \"total\": 100, \"dirty-sync-count\": 3}}";
        peer.on("query-migrate", ok(pass2), ok(queryMigrate("failed", 60, 40, 100)),
                ok("{\"status\": \"failed\", \"error-desc\": \"target went away\"}"));
        HypervisorException e = assertThrows(HypervisorException.class, () -> runWith(List.of("postcopy-ram")));
        assertTrue(e.getMessage().startsWith("Migration of " + NAME + " failed after it switched to post-copy: ")
                && e.getMessage().contains("target went away") && e.getMessage().contains("must not be resumed"),
                e.getMessage());
        assertTrue(!peer.commands().contains("cont"), "the source is not resumed: " + peer.commands());
    }

    @Test
    void theStatusNamesThePhaseTheDirtyRateAndTheExpectedPause() throws Exception {
        peer.on("query-migrate",
                ok("{\"status\": \"active\", \"expected-downtime\": 41, \"ram\": {\"transferred\": 5, \"total\": 9,"
                        + " \"dirty-pages-rate\": 1200}}"),
                ok("{\"status\": \"postcopy-active\", \"ram\": {\"transferred\": 7, \"total\": 9}}"),
                ok("{\"status\": \"device\", \"expected-downtime\": -3, \"ram\": {\"dirty-pages-rate\": \"x\"}}"));
        assertEquals(new MigrationStatus(State.ACTIVE, 5, 0, 9, -1, null, Phase.PRE_COPY, 1200, 41), QmpMigration.status(qmp));
        assertEquals(Phase.POST_COPY, QmpMigration.status(qmp).phase());
        MigrationStatus device = QmpMigration.status(qmp);
        assertEquals(List.of(Phase.DEVICE_STATE, -1L, -1L), List.of(device.phase(), device.dirtyPagesRate(),
                device.expectedDowntimeMillis()), "hostile figures are unknown, not believed");
    }
}
