package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class InstanceStatsTest {

    private static InstanceStats stats(List<InstanceStats.DiskStats> disks, List<InstanceStats.NicStats> nics) {
        return new InstanceStats("web1", "node-a", InstanceState.RUNNING, 42, 1_700_000_000_000L, 5000, 1230,
                List.of(new InstanceStats.VcpuStats(0, 43, 1000)), 128L << 20, InstanceStats.UNKNOWN, disks, nics,
                false, "");
    }

    @Test
    void serializesForRemoteServices() throws Exception {
        InstanceStats s = stats(List.of(new InstanceStats.DiskStats("virtio0", 1, 2, 3, 4)),
                List.of(new InstanceStats.NicStats(0, "tap0", 10, 1, 0, 20, 2, 0)));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(s);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(s, in.readObject());
        }
    }

    @Test
    void listsAreCopiesAndNullsRefused() {
        List<InstanceStats.DiskStats> disks = new ArrayList<>();
        InstanceStats s = stats(disks, List.of());
        disks.add(new InstanceStats.DiskStats("d", 0, 0, 0, 0));
        assertEquals(0, s.disks().size());
        assertThrows(UnsupportedOperationException.class, () -> s.vcpus().clear());
        assertThrows(NullPointerException.class, () -> new InstanceStats("a", "n", InstanceState.RUNNING, 1, 0, 0, 0,
                List.of(), 0, 0, List.of(), List.of(), true, null));
    }

    @Test
    void sumsSayUnknownWhenNothingIsKnownAndSkipUnknownParts() {
        InstanceStats none = stats(List.of(), List.of());
        assertEquals(InstanceStats.UNKNOWN, none.diskReadBytes());
        assertEquals(InstanceStats.UNKNOWN, none.netRxBytes());
        assertEquals(InstanceStats.UNKNOWN, none.netDrops());
        InstanceStats two = stats(List.of(new InstanceStats.DiskStats("a", 100, 1, 0, 0),
                new InstanceStats.DiskStats("b", 50, 2, 0, 0)),
                List.of(new InstanceStats.NicStats(0, "tap0", 10, 1, 3, 20, 2, 4),
                        new InstanceStats.NicStats(1, "", -1, -1, -1, -1, -1, -1)));
        assertEquals(150, two.diskReadBytes());
        assertEquals(3, two.diskWriteBytes());
        assertEquals(10, two.netRxBytes());
        assertEquals(20, two.netTxBytes());
        assertEquals(7, two.netDrops());
    }

    @Test
    void theLastMigrationTravelsAndIsCheckedNamingItsFields() throws Exception {
        InstanceStats.LastMigration m = new InstanceStats.LastMigration(true, MigrationStatus.State.COMPLETED,
                1_700_000_000_000L, 2300, 31, 120L << 20);
        InstanceStats s = stats(List.of(), List.of()).withLastMigration(m);
        assertEquals(m, s.lastMigration());
        assertEquals(null, stats(List.of(), List.of()).lastMigration(), "the 1.3 constructor: none");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(s);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(s, in.readObject());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new InstanceStats.LastMigration(
                false, MigrationStatus.State.ACTIVE, 0, 1, 1, 1));
        assertEquals("result must be COMPLETED, FAILED or CANCELLED, got ACTIVE", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new InstanceStats.LastMigration(false,
                MigrationStatus.State.FAILED, 0, -2, -1, -1));
        assertEquals("durationMillis, downtimeMillis and transferredBytes must be -1 (unknown) or at least 0,"
                + " got -2, -1 and -1", e.getMessage());
        assertThrows(NullPointerException.class, () -> new InstanceStats.LastMigration(false, null, 0, 1, 1, 1));
    }
}
