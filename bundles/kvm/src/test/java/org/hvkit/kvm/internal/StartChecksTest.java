package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When two disk paths are one disk: the same device or file, or one inside the other (a fake sysfs, real device nodes). */
class StartChecksTest {

    @TempDir
    Path tmp;

    private Path sys() {
        return tmp.resolve("sys/dev/block");
    }

    /** A device node for major:minor and its sysfs entry linked to devices/{@code where}. */
    private Path device(String name, int major, int minor, String where) throws Exception {
        Path node = tmp.resolve(name);
        KvmTestNode.run("mknod", node.toString(), "b", Integer.toString(major), Integer.toString(minor));
        Path dir = Files.createDirectories(tmp.resolve("sys/devices").resolve(where));
        Files.writeString(dir.resolve("dev"), major + ":" + minor + "\n");
        Files.createDirectories(sys());
        Files.createSymbolicLink(sys().resolve(major + ":" + minor), dir);
        return node;
    }

    @Test
    void aWholeDiskAndItsPartitionAreOneDiskTwoPartitionsAreNot() throws Exception {
        Path sdb = device("sdb", 8, 16, "pci0/block/sdb");
        Path sdb1 = device("sdb1", 8, 17, "pci0/block/sdb/sdb1");
        Path sdb2 = device("sdb2", 8, 18, "pci0/block/sdb/sdb2");
        for (String part : new String[] {"sdb1", "sdb2"}) {
            Files.writeString(tmp.resolve("sys/devices/pci0/block/sdb").resolve(part).resolve("partition"), "1\n");
        }
        StartChecks.Identity disk = StartChecks.identity(sdb.toString(), sys());
        StartChecks.Identity one = StartChecks.identity(sdb1.toString(), sys());
        StartChecks.Identity two = StartChecks.identity(sdb2.toString(), sys());
        assertEquals("block 8:17", one.self());
        assertTrue(one.overlaps(disk) && disk.overlaps(one), "a partition is inside its disk");
        assertFalse(one.overlaps(two), "two partitions of one disk are two disks");
        Path alias = Files.createSymbolicLink(tmp.resolve("by-id"), sdb1);
        assertTrue(StartChecks.identity(alias.toString(), sys()).overlaps(one), "links followed");
    }

    @Test
    void aLoopDeviceIsItsBackingFile() throws Exception {
        Path image = Files.writeString(tmp.resolve("disk.img"), "x");
        Path other = Files.writeString(tmp.resolve("other.img"), "y");
        Path loop = device("loop5", 7, 5, "virtual/block/loop5");
        Path info = Files.createDirectories(tmp.resolve("sys/devices/virtual/block/loop5/loop"));
        Files.writeString(info.resolve("backing_file"), image + "\n");
        StartChecks.Identity l = StartChecks.identity(loop.toString(), sys());
        StartChecks.Identity file = StartChecks.identity(image.toString(), sys());
        assertTrue(l.overlaps(file) && file.overlaps(l), "writing the loop device writes the file");
        assertFalse(l.overlaps(StartChecks.identity(other.toString(), sys())));
        Files.writeString(info.resolve("backing_file"), image + " (deleted)\n");
        assertTrue(StartChecks.identity(loop.toString(), sys()).overlaps(file), "the kernel's ' (deleted)' suffix");
        assertEquals(null, StartChecks.identity(tmp.resolve("missing").toString(), sys()));
    }

    @Test
    void aDeviceMapperDeviceIsTheDevicesItIsBuiltOnTwoLvsAreNotOneDisk() throws Exception {
        Path sdb = device("sdb", 8, 16, "pci0/block/sdb");
        Path lvA = device("dm-1", 253, 1, "virtual/block/dm-1");
        Path lvB = device("dm-2", 253, 2, "virtual/block/dm-2");
        Path kpartx = device("dm-5", 253, 5, "virtual/block/dm-5"); // a mapping over a partition of lvA
        slave("dm-1", "pci0/block/sdb");
        slave("dm-2", "pci0/block/sdb");
        slave("dm-5", "virtual/block/dm-1");
        StartChecks.Identity a = StartChecks.identity(lvA.toString(), sys());
        StartChecks.Identity b = StartChecks.identity(lvB.toString(), sys());
        StartChecks.Identity k = StartChecks.identity(kpartx.toString(), sys());
        assertTrue(k.overlaps(a) && a.overlaps(k), "writing the mapping writes the LV under it");
        assertTrue(k.overlaps(StartChecks.identity(sdb.toString(), sys())), "and the disk under that");
        assertFalse(a.overlaps(b), "two LVs of one volume group are two disks");
        assertFalse(k.overlaps(b));
    }

    /** {@code dm}'s sysfs {@code slaves/} entry for the device at devices/{@code under}. */
    private void slave(String dm, String under) throws Exception {
        Path slaves = Files.createDirectories(tmp.resolve("sys/devices/virtual/block").resolve(dm).resolve("slaves"));
        Path target = tmp.resolve("sys/devices").resolve(under);
        Files.createSymbolicLink(slaves.resolve(target.getFileName()), target);
    }
}
