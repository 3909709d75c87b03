package org.hvkit.shell.internal;

import java.util.Locale;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;
import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;

/** Ganeti's {@code HotAddDevice} for a disk: {@code hv:disk-add NAME PATH}. */
@Command(scope = "hv", name = "disk-add", description = "Hot-adds a disk to a running instance: the node opens the"
        + " block device or image file (with the cache, aio and discard settings of a start) and hands it to the"
        + " guest as a new virtio disk; a reboot or a migration keeps it.")
@Service
public final class DiskAddCommand extends InstanceAction {

    @Argument(index = 1, name = "path", required = true, description = "The disk's node-local block device or"
            + " image file (an absolute normalized path); it names the disk from then on")
    @Completion(FileCompleter.class)
    String path;

    @Option(name = "--mode", description = "rw (default) or ro")
    String mode = "rw";

    @Option(name = "--size", description = "The disk's size in MiB, as the instance's definition records it"
            + " (informational; default 0: unknown)")
    long sizeMiB;

    @Override
    Object run(HypervisorRegistry.Entry entry) throws Exception {
        Disk disk = disk(path, mode, sizeMiB);
        Hypervisor hv = entry.hypervisor();
        hv.hotAddDisk(running(hv, name, "hot-add a disk to"), disk);
        System.out.println("Instance " + name + " on " + entry.label() + ": disk " + disk.devPath() + " added ("
                + disk.mode().ganetiName() + ")");
        return null;
    }

    /** The disk the arguments describe, or an error naming the argument and what it allows. */
    static Disk disk(String path, String mode, long sizeMiB) throws HypervisorException {
        String md = mode == null ? "" : mode.strip().toLowerCase(Locale.ROOT);
        DiskMode m;
        if ("rw".equals(md)) {
            m = DiskMode.RW;
        } else if ("ro".equals(md)) {
            m = DiskMode.RO;
        } else {
            String shown = mode == null ? "" : mode.length() > 20 ? mode.substring(0, 20) + "…" : mode;
            throw new HypervisorException("--mode must be rw or ro, got '" + shown.replaceAll("\\p{Cntrl}", "?") + "'");
        }
        if (sizeMiB < 0) {
            throw new HypervisorException("--size must be a whole number of MiB, 0 or more, got " + sizeMiB);
        }
        if (path == null || path.isBlank()) {
            throw new HypervisorException("path must name the disk's block device or image file");
        }
        return new Disk(path, m, sizeMiB);
    }
}
