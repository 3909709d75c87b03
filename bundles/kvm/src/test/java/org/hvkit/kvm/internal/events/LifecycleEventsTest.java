package org.hvkit.kvm.internal.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.hvkit.hypervisor.InstanceEvents;
import org.hvkit.hypervisor.MigrationStatus;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The classification of instance ends and QMP events into topics, one event per fact. */
class LifecycleEventsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<String> seen = new ArrayList<>();
    private final List<Map<String, Object>> props = new ArrayList<>();
    private final LifecycleEvents events = new LifecycleEvents("node1", () -> (topic, p) -> {
        seen.add(topic.substring(InstanceEvents.PREFIX.length()) + " " + p.get(InstanceEvents.REASON));
        props.add(p);
    });

    private static JsonNode qmp(String json) throws Exception {
        return JSON.readTree(json);
    }

    private static JsonNode shutdown(boolean guest, String reason) throws Exception {
        return qmp("{\"event\":\"SHUTDOWN\",\"data\":{\"guest\":" + guest + ",\"reason\":\"" + reason + "\"}}");
    }

    @Test
    void aProcessThatClosesItsMonitorUnaskedCrashedOnce() {
        events.started("a", 10, false, InstanceEvents.REASON_START);
        events.closedByQemu("a", 10);
        events.closedByQemu("a", 10);
        events.vanished("a", 10);
        events.ended("a", 10, InstanceEvents.REASON_ADMIN_KILL); // a late cleanup: the fact is told already
        assertEquals(List.of("STARTED start", "CRASHED process-gone"), seen);
        Map<String, Object> p = props.get(1);
        assertEquals("a", p.get(InstanceEvents.INSTANCE));
        assertEquals("node1", p.get(InstanceEvents.NODE));
        assertEquals("kvm", p.get(InstanceEvents.TYPE));
        assertEquals(10L, p.get(InstanceEvents.PID));
        assertTrue(p.get(InstanceEvents.TIMESTAMP) instanceof Long);
        assertEquals(Map.of(), events.watched());
    }

    @Test
    void anAdminStopIsStoppedWhetherTheDriverOrQemusCloseNoticesFirst() throws Exception {
        events.started("a", 10, false, null); // adopted: no event
        events.ending("a", 10, InstanceEvents.REASON_ADMIN_STOP);
        events.event("a", 10, qmp("{\"event\":\"POWERDOWN\"}"));
        events.event("a", 10, shutdown(true, "guest-shutdown"));
        events.event("a", 10, qmp("{\"event\":\"STOP\"}"));
        events.closedByQemu("a", 10);
        events.ended("a", 10, InstanceEvents.REASON_ADMIN_STOP);

        events.started("b", 11, false, InstanceEvents.REASON_START);
        events.ending("b", 11, InstanceEvents.REASON_ADMIN_KILL);
        events.ended("b", 11, InstanceEvents.REASON_ADMIN_KILL);
        events.closedByQemu("b", 11);
        assertEquals(List.of("STOPPED admin-stop", "STARTED start", "STOPPED admin-kill"), seen);
    }

    @Test
    void aFailedStopLeavesTheNextEndACrash() {
        events.started("a", 10, false, InstanceEvents.REASON_START);
        events.ending("a", 10, InstanceEvents.REASON_ADMIN_KILL);
        events.notEnding("a", 10);
        events.closedByQemu("a", 10);
        assertEquals(List.of("STARTED start", "CRASHED process-gone"), seen);
    }

    @Test
    void guestShutdownUnderUserShutdownIsTold() throws Exception {
        events.started("a", 10, true, InstanceEvents.REASON_START);
        events.event("a", 10, shutdown(true, "guest-shutdown"));
        events.event("a", 10, qmp("{\"event\":\"STOP\"}")); // QEMU stops the CPUs of a shut down guest
        events.event("a", 10, shutdown(true, "guest-shutdown"));
        // then an admin stop quits QEMU: a second fact
        events.ending("a", 10, InstanceEvents.REASON_ADMIN_STOP);
        events.closedByQemu("a", 10);
        assertEquals(List.of("STARTED start", "SHUTDOWN_BY_GUEST guest-shutdown", "STOPPED admin-stop"), seen);
    }

    @Test
    void aStartReplacingAGuestShutDownQemuEndsItSilently() throws Exception {
        events.started("a", 10, true, InstanceEvents.REASON_START);
        events.event("a", 10, shutdown(true, "guest-shutdown"));
        events.ending("a", 10, LifecycleEvents.SILENT);
        events.ended("a", 10, LifecycleEvents.SILENT);
        events.started("a", 12, true, InstanceEvents.REASON_START);
        events.closedByQemu("a", 10); // the old connection's end, read late
        assertEquals(List.of("STARTED start", "SHUTDOWN_BY_GUEST guest-shutdown", "STARTED start"), seen);
        assertEquals(Map.of("a", 12L), events.watched());
    }

    @Test
    void aGuestPoweroffWithoutUserShutdownIsDownNotCrashed() throws Exception {
        events.started("a", 10, false, InstanceEvents.REASON_START);
        events.event("a", 10, shutdown(true, "guest-shutdown"));
        events.closedByQemu("a", 10);
        // reboot_behavior=exit: a guest's reboot ends QEMU (-no-reboot), told with QEMU's reason
        events.started("b", 11, false, InstanceEvents.REASON_START);
        events.event("b", 11, shutdown(true, "guest-reset"));
        events.closedByQemu("b", 11);
        assertEquals(List.of("STARTED start", "STOPPED guest-poweroff", "STARTED start", "STOPPED guest-reset"), seen);
    }

    @Test
    void aShutdownFromTheHostThatNobodyHereAskedForIsACrash() throws Exception {
        events.started("a", 10, false, InstanceEvents.REASON_START);
        events.event("a", 10, shutdown(false, "host-signal"));
        events.closedByQemu("a", 10);
        assertEquals(List.of("STARTED start", "CRASHED qemu-shutdown:host-signal"), seen);
    }

    @Test
    void pauseAndResumeOnlyWhenTheyAreTheirOwnFact() throws Exception {
        events.started("a", 10, false, InstanceEvents.REASON_START);
        events.event("a", 10, qmp("{\"event\":\"STOP\"}"));
        events.event("a", 10, qmp("{\"event\":\"STOP\"}"));
        events.event("a", 10, qmp("{\"event\":\"RESUME\"}"));
        events.event("a", 10, qmp("{\"event\":\"RESUME\"}"));
        // a migration stops the CPUs at the switch-over: part of the migration
        events.migrating("a", 10, true);
        events.event("a", 10, qmp("{\"event\":\"STOP\"}"));
        events.event("a", 10, qmp("{\"event\":\"RESUME\"}")); // it failed: the source runs on
        events.migrationFailed("a", 10, "tcp:n2:8102", "no route");
        // a paused start, resumed later
        events.started("b", 11, false, InstanceEvents.REASON_START_PAUSED);
        events.event("b", 11, qmp("{\"event\":\"RESUME\"}"));
        // events of another process of the same name are not this one's
        events.event("b", 99, qmp("{\"event\":\"STOP\"}"));
        assertEquals(List.of("STARTED start", "PAUSED qmp-stop", "RESUMED qmp-resume",
                "migration/FAILED no route", "STARTED start-paused", "RESUMED qmp-resume"), seen);
    }

    @Test
    void migrationProgressIsBoundedAndTheSourcesEndIsSilent() {
        events.started("a", 10, false, InstanceEvents.REASON_START);
        events.migrating("a", 10, true);
        MigrationStatus st = new MigrationStatus(MigrationStatus.State.ACTIVE, 1 << 20, 3 << 20, 4 << 20);
        for (int i = 0; i < 50; i++) {
            events.migrationProgress("a", 10, "tcp:n2:8102", st);
        }
        events.migrationProgress("a", 10, "tcp:n2:8102", new MigrationStatus(MigrationStatus.State.COMPLETED, 4, 0, 4));
        lastProgressForgotten();
        events.migrationProgress("a", 10, "tcp:n2:8102", new MigrationStatus(MigrationStatus.State.FAILED, 4, 0, 4));
        events.migrationCompleted("a", 10, "tcp:n2:8102", st);
        events.ending("a", 10, LifecycleEvents.SILENT);
        events.closedByQemu("a", 10);
        events.ended("a", 10, LifecycleEvents.SILENT);
        assertEquals(List.of("STARTED start", "migration/PROGRESS active", "migration/COMPLETED completed"), seen);
        assertEquals(1L << 20, props.get(1).get(InstanceEvents.TRANSFERRED));
        assertEquals("tcp:n2:8102", props.get(2).get(InstanceEvents.TARGET));
    }

    /** Lets the next progress through the rate bound (a final state must still stay unpublished). */
    private void lastProgressForgotten() {
        events.migrating("a", 10, false);
        events.migrating("a", 10, true);
    }

    @Test
    void aClosedPublisherTellsNothingAndNoSinkIsNoFailure() {
        events.started("a", 10, false, InstanceEvents.REASON_START);
        events.close();
        events.closedByQemu("a", 10);
        events.started("b", 11, false, InstanceEvents.REASON_START);
        assertEquals(List.of("STARTED start"), seen);

        LifecycleEvents none = new LifecycleEvents("n", () -> null);
        none.started("a", 1, false, InstanceEvents.REASON_START);
        none.closedByQemu("a", 1);
        assertEquals(Map.of(), none.watched());
    }

    @Test
    void deviceDeletedReachesItsListenerForWatchedProcessesOnly() throws Exception {
        java.util.List<String> heard = new java.util.ArrayList<>();
        events.onDeviceDeleted((name, pid, device) -> heard.add(name + " " + pid + " " + device));
        events.started("a", 10, false, InstanceEvents.REASON_START);
        events.event("a", 10, qmp("{\"event\":\"DEVICE_DELETED\",\"data\":{\"path\":"
                + "\"/machine/peripheral/nic0/virtio-backend\"}}")); // a part of the device: no id
        events.event("a", 10, qmp("{\"event\":\"DEVICE_DELETED\",\"data\":{\"device\":\"nic0\","
                + "\"path\":\"/machine/peripheral/nic0\"}}"));
        events.event("a", 11, qmp("{\"event\":\"DEVICE_DELETED\",\"data\":{\"device\":\"nic1\"}}")); // not watched
        events.event("b", 10, qmp("{\"event\":\"DEVICE_DELETED\",\"data\":{\"device\":\"nic2\"}}"));
        events.onDeviceDeleted((name, pid, device) -> {
            throw new IllegalStateException("a failing listener costs the watcher nothing");
        });
        events.event("a", 10, qmp("{\"event\":\"DEVICE_DELETED\",\"data\":{\"device\":\"nic3\"}}"));
        assertEquals(java.util.List.of("a 10 nic0"), heard);
    }
}
