package org.hvkit.kvm.internal.runtime;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import org.hvkit.hypervisor.HypervisorException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The pending hot-removals file: what is written is read back, and a damaged file is an error naming the field. */
class PendingRemovalsTest {

    @TempDir
    Path tmp;
    RuntimePaths paths;
    PendingRemovals files;

    @BeforeEach
    void setUp() throws Exception {
        paths = new RuntimePaths(tmp);
        new RuntimeStore(paths).ensureDirectories();
        files = new PendingRemovals(paths);
    }

    @Test
    void whatIsSavedIsLoadedAndNoneRemovesTheFile() throws Exception {
        List<PendingRemovals.Removal> two = List.of(
                new PendingRemovals.Removal(5, "hotnic5", "hotnet5", PendingRemovals.NIC, "aa:00:00:00:00:01"),
                new PendingRemovals.Removal(7, "virtio-hotdisk7", "hotdisk7", PendingRemovals.DISK, "/dev/vg/a b"));
        assertEquals(Optional.empty(), files.load("i1"));
        files.save("i1", 4242, two);
        assertEquals(new PendingRemovals.Saved(4242, two), files.load("i1").orElseThrow());
        files.save("i1", 4242, List.of());
        assertFalse(Files.exists(paths.pendingFile("i1")));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "nope | not JSON",
        "{\"pid\": -1, \"removals\": []} | pid must be a positive integer",
        "{\"pid\": \"12\", \"removals\": []} | pid must be a positive integer",
        "{\"pid\": 12, \"removals\": []} | removals must be a list of 1 to 32 removals",
        "{\"pid\": 12, \"removals\": [{\"slot\": 5}]} | removals[0] must have an integer slot and the strings device,"
                + " backend, kind and key",
        "{\"pid\": 12, \"removals\": [{\"slot\": 40, \"device\": \"d\", \"backend\": \"b\", \"kind\": \"nic\","
                + " \"key\": \"aa:00:00:00:00:01\"}]} | removals[0].slot 40 is not a PCI slot (0-31)",
        "{\"pid\": 12, \"removals\": [{\"slot\": 4, \"device\": \"d;rm\", \"backend\": \"b\", \"kind\": \"nic\","
                + " \"key\": \"aa:00:00:00:00:01\"}]} | removals[0].device is not a QEMU id",
        "{\"pid\": 12, \"removals\": [{\"slot\": 4, \"device\": \"d\", \"backend\": \"b,x=y\", \"kind\": \"nic\","
                + " \"key\": \"aa:00:00:00:00:01\"}]} | removals[0].backend is not a QEMU id",
        "{\"pid\": 12, \"removals\": [{\"slot\": 4, \"device\": \"d\", \"backend\": \"b\", \"kind\": \"cpu\","
                + " \"key\": \"x\"}]} | removals[0].kind must be nic or disk",
        "{\"pid\": 12, \"removals\": [{\"slot\": 4, \"device\": \"d\", \"backend\": \"b\", \"kind\": \"nic\","
                + " \"key\": \"zz\"}]} | removals[0].key of a nic removal is not a MAC address",
        "{\"pid\": 12, \"removals\": [{\"slot\": 4, \"device\": \"d\", \"backend\": \"b\", \"kind\": \"disk\","
                + " \"key\": \"/etc/../etc/shadow\"}]} | removals[0].key of a disk removal is not an absolute"
                + " normalized path",
        "{\"pid\": 12, \"removals\": [{\"slot\": 4, \"device\": \"nic1\", \"backend\": \"netdev2\", \"kind\": \"nic\","
                + " \"key\": \"aa:00:00:00:00:01\"}]} | removals[0].device nic1 and backend netdev2 are not the ids of one"
                + " NIC at slot 4 (nic<i> and netdev<i>, or hotnic4 and hotnet4)",
        "{\"pid\": 12, \"removals\": [{\"slot\": 6, \"device\": \"hotnic5\", \"backend\": \"hotnet5\", \"kind\": \"nic\","
                + " \"key\": \"aa:00:00:00:00:01\"}]} | removals[0].device hotnic5 and backend hotnet5 are not the ids of"
                + " one NIC at slot 6 (nic<i> and netdev<i>, or hotnic6 and hotnet6)",
        "{\"pid\": 12, \"removals\": [{\"slot\": 4, \"device\": \"virtio-disk0\", \"backend\": \"hotdisk4\","
                + " \"kind\": \"disk\", \"key\": \"/dev/vg/a\"}]} | removals[0].device virtio-disk0 and backend hotdisk4 are"
                + " not the ids of one disk at slot 4 (virtio-disk<i> and disk<i>, or virtio-hotdisk4 and hotdisk4)",
    })
    void aDamagedFileIsAnErrorNamingTheField(String text, String why) throws Exception {
        Files.writeString(paths.pendingFile("i1"), text);
        HypervisorException e = assertThrows(HypervisorException.class, () -> files.load("i1"));
        assertEquals("The pending removals file " + paths.pendingFile("i1") + " is damaged: " + why,
                e.getMessage().replaceAll(" \\(Unrecognized token.*", ""));
    }

    @Test
    void theIdsOfCommandLineDevicesPairByIndex() {
        assertDoesNotThrow(() -> new PendingRemovals.Removal(4, "nic1", "netdev1", PendingRemovals.NIC,
                "aa:00:00:00:00:01"));
        assertDoesNotThrow(() -> new PendingRemovals.Removal(4, "virtio-disk2", "disk2", PendingRemovals.DISK,
                "/dev/vg/a"));
    }

    @Test
    void anOversizedFileOrALinkIsNotRead() throws Exception {
        Files.writeString(paths.pendingFile("i1"), String.join("", Collections.nCopies(PendingRemovals.MAX_FILE_BYTES + 1,
                " ")));
        assertThrows(HypervisorException.class, () -> files.load("i1"));
        Files.delete(paths.pendingFile("i1"));
        Files.createSymbolicLink(paths.pendingFile("i2"), Path.of("/etc/passwd"));
        assertThrows(HypervisorException.class, () -> files.load("i2"));
        // and a planted link is replaced, not written through (the write is a rename over it)
        String passwd = Files.readString(Path.of("/etc/passwd"));
        files.save("i2", 1, List.of(new PendingRemovals.Removal(5, "hotnic5", "hotnet5", PendingRemovals.NIC,
                "aa:00:00:00:00:01")));
        assertFalse(Files.isSymbolicLink(paths.pendingFile("i2")));
        assertEquals(1, files.load("i2").orElseThrow().pid());
        assertEquals(passwd, Files.readString(Path.of("/etc/passwd")));
    }
}
