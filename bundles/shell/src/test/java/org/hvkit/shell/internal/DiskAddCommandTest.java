package org.hvkit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.HypervisorException;
import org.junit.jupiter.api.Test;

/** hv:disk-add's arguments become a disk, or an error naming what is wrong. */
class DiskAddCommandTest {

    @Test
    void argumentsBecomeADisk() throws Exception {
        assertEquals(new Disk("/srv/disks/web1-1.img", DiskMode.RW, 0),
                DiskAddCommand.disk("/srv/disks/web1-1.img", "rw", 0));
        assertEquals(new Disk("/dev/vg0/data", DiskMode.RO, 1024), DiskAddCommand.disk("/dev/vg0/data", " RO ", 1024));
    }

    @Test
    void badArgumentsAreNamed() {
        assertEquals("--mode must be rw or ro, got 'r?w'", assertThrows(HypervisorException.class,
                () -> DiskAddCommand.disk("/srv/d.img", "r\nw", 0)).getMessage());
        assertEquals("--size must be a whole number of MiB, 0 or more, got -1", assertThrows(
                HypervisorException.class, () -> DiskAddCommand.disk("/srv/d.img", "rw", -1)).getMessage());
        assertEquals("path must name the disk's block device or image file", assertThrows(HypervisorException.class,
                () -> DiskAddCommand.disk(" ", "rw", 0)).getMessage());
    }
}
