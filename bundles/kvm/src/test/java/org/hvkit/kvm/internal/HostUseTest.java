package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which block devices and files the host uses, read from kernel tables given as a tree. */
class HostUseTest {

    @TempDir
    Path tmp;

    private HostUse tables(String mountinfo, String swaps) throws Exception {
        Path proc = Files.createDirectories(tmp.resolve("proc/self"));
        Files.writeString(proc.resolve("mountinfo"), mountinfo);
        Files.writeString(tmp.resolve("proc/swaps"), swaps);
        return new HostUse(tmp.resolve("proc"), Files.createDirectories(tmp.resolve("sys/dev/block")));
    }

    private void device(String dev, String... holders) throws Exception {
        Path d = Files.createDirectories(tmp.resolve("sys/dev/block").resolve(dev).resolve("holders"));
        for (String h : holders) {
            Files.createDirectories(d.resolve(h));
        }
    }

    private void partition(String disk, String name, String dev) throws Exception {
        Path p = Files.createDirectories(tmp.resolve("sys/dev/block").resolve(disk).resolve(name));
        Files.writeString(p.resolve("partition"), "1\n");
        Files.writeString(p.resolve("dev"), dev + "\n");
    }

    @Test
    void mountedHeldOrPartitionedDevicesAreTheHostsOthersAreNot() throws Exception {
        HostUse t = tables("""
                21 26 0:20 / /proc rw,relatime - proc proc rw
                26 1 254:0 / / rw,relatime - ext4 /dev/vda rw
                30 26 8:17 / /srv/my\\040data rw - ext4 /dev/sdb1 rw
                """, "Filename\tType\tSize\tUsed\tPriority\n");
        device("254:0");
        device("8:2", "dm-0");
        device("8:16");
        partition("8:16", "sdb1", "8:17");
        device("252:0");
        assertEquals("is mounted at /", t.blockUse("254:0"));
        assertEquals("is held by dm-0 (LVM, device-mapper, md or another stacked device)", t.blockUse("8:2"));
        assertEquals("has partition sdb1 (8:17), which is mounted at /srv/my data", t.blockUse("8:16"));
        assertNull(t.blockUse("252:0"), "a DRBD or LV device nobody holds or mounts is the guest's");
        assertNull(t.blockUse("7:3"), "no sysfs entry, not mounted");
    }

    @Test
    void systemFilesAndTheNodesOwnFilesAreTheHostsImagesAreNot() throws Exception {
        HostUse t = tables("", "");
        Path root = Files.createDirectories(tmp.resolve("kvm"));
        Path lock = Files.writeString(root.resolve("hvkit.lock"), "");
        Path image = Files.writeString(tmp.resolve("disk.img"), "");
        assertEquals("is a host system file (/etc/passwd, under /etc)", t.of(Path.of("/etc/passwd"), root));
        assertEquals("is a file of this node's root.dir (" + lock.toRealPath() + ")", t.of(lock, root));
        assertNull(t.of(image, root));
        Path link = Files.createSymbolicLink(tmp.resolve("link.img"), Path.of("/etc/passwd"));
        assertEquals("is a host system file (/etc/passwd, under /etc)", t.of(link, root), "links are followed");
        assertNull(t.of(tmp.resolve("missing.img"), root), "the type check reports what does not exist");
    }

    @Test
    void aGuestMayReadAHostKernelButNoPrivateFile() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("kvm"));
        Path iso = Files.writeString(tmp.resolve("boot.iso"), "");
        assertNull(HostUse.privateFile(iso, root));
        assertNull(HostUse.privateFile(Path.of("/usr/bin/env"), root), "under /usr: an ISO of a package may lie there");
        assertEquals("is a private host file (/etc/passwd, under /etc)", HostUse.privateFile(Path.of("/etc/passwd"), root));
        String proc = HostUse.privateFile(Path.of("/proc/self/status"), root);
        assertTrue(proc.matches("is a private host file \\(/proc/\\d+/status, under /proc\\)"), proc);
        Path socket = Files.writeString(root.resolve("inst1.qmp"), "");
        assertEquals("is a file of this node's root.dir (" + socket.toRealPath() + ")", HostUse.privateFile(socket, root));
    }

    @Test
    void deviceNumbersDecodeAsGlibcDoes() {
        long vda = (254L << 8);                         // old encoding, major 254 minor 0
        assertEquals(254, HostUse.major(vda));
        assertEquals(0, HostUse.minor(vda));
        long big = (0x123L << 8) | 0x45;
        assertEquals(0x123, HostUse.major(big));
        assertEquals(0x45, HostUse.minor(big));
        // a large minor (e.g. nvme partitions: 259:65536) uses the high bits: makedev(259, 65536)
        long nvme = ((259L & 0xfffL) << 8) | ((259L & ~0xfffL) << 32) | (65536L & 0xffL) | ((65536L & ~0xffL) << 12);
        assertEquals(259, HostUse.major(nvme));
        assertEquals(65536, HostUse.minor(nvme));
    }

    /** A sysfs entry {@code sys/dev/block/<dev>} linked to the device directory {@code devices/<where>}. */
    private void sysfs(String dev, String where) throws Exception {
        Path target = Files.createDirectories(tmp.resolve("sys/devices").resolve(where));
        Files.createSymbolicLink(tmp.resolve("sys/dev/block").resolve(dev), target);
    }

    @Test
    void aDiskOfTheMachinesHardwareIsTheHostsUnlessListedVirtualOnesAreNot() throws Exception {
        HostUse t = tables("", "Filename\tType\tSize\tUsed\tPriority\n");
        sysfs("8:16", "pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sdb");
        sysfs("8:17", "pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sdb/sdb1");
        sysfs("259:0", "pci0000:00/0000:00:1d.0/nvme/nvme0/nvme0n1");
        sysfs("253:3", "virtual/block/dm-3");
        sysfs("147:0", "virtual/block/drbd0");
        sysfs("7:0", "virtual/block/loop0");
        sysfs("251:0", "rbd/0/block/rbd0");
        Path devices = tmp.resolve("sys/devices").toRealPath();
        assertEquals("is a disk of this machine's hardware (" + devices.resolve(
                "pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sdb") + "); list it in the node key"
                + " disk.host.devices to give it to a guest", t.hardware("8:16"));
        assertTrue(t.hardware("8:17").startsWith("is a disk of this machine's hardware ("), "a partition of one too");
        assertTrue(t.hardware("259:0").startsWith("is a disk of this machine's hardware ("), "NVMe");
        for (String dev : new String[] {"253:3", "147:0", "7:0", "251:0"}) {
            assertNull(t.hardware(dev), dev + ": LVM/device-mapper, DRBD, loop and RBD are storage for guests");
        }
        assertNull(t.hardware("8:32"), "no sysfs entry: nothing to tell");

        // a device node (as root) for 8:16: refused by default, allowed when the node key lists it
        Path node = tmp.resolve("sdb");
        KvmTestNode.run("mknod", node.toString(), "b", "8", "16");
        Path root = Files.createDirectories(tmp.resolve("kvm"));
        assertEquals("(" + node.toRealPath() + ", device 8:16) " + t.hardware("8:16"), t.of(node, root));
        Path link = Files.createSymbolicLink(tmp.resolve("by-id-link"), node);
        assertNull(t.of(node, root, java.util.Set.of(link)), "listed (through a link): the guest's");
        assertNull(t.of(Files.createDirectories(tmp.resolve("other")).resolve("x"), root, java.util.Set.of(link)));
    }

    @Test
    void thisMachinesOwnSysfsTellsHardwareFromVirtualDevices() throws Exception {
        int hardware = 0;
        int virtual = 0;
        try (var entries = Files.list(Path.of("/sys/dev/block"))) {
            for (Path e : entries.toList()) {
                String real = e.toRealPath().toString();
                String verdict = HostUse.SYSTEM.hardware(e.getFileName().toString());
                if (real.contains("/devices/virtual/") || real.contains("/devices/rbd/")) {
                    assertNull(verdict, real);
                    virtual++;
                } else {
                    assertTrue(verdict != null && verdict.contains(real), real + ": " + verdict);
                    hardware++;
                }
            }
        }
        assertTrue(hardware > 0, "this machine has a disk of its own (its root disk): " + hardware + " hardware, "
                + virtual + " virtual or RBD");
    }

    @Test
    void theNodeKeyListsAbsolutePathsAndNamesItselfWhenWrong() {
        assertEquals(java.util.Set.of(Path.of("/dev/sdb"), Path.of("/dev/disk/by-id/ata-X")),
                KvmSettings.hostDisks(" /dev/sdb, /dev/disk/by-id/ata-X ,"));
        assertEquals(java.util.Set.of(), KvmSettings.hostDisks(null));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> KvmSettings.hostDisks("/dev/sdb,sdc"));
        assertEquals(KvmNode.PID + ": disk.host.devices must be an absolute normalized path, got 'sdc'",
                e.getMessage());
    }
}
