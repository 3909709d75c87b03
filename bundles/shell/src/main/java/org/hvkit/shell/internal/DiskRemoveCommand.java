package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.Hypervisor;

/** Ganeti's {@code HotDelDevice} for a disk: {@code hv:disk-remove NAME PATH}. */
@Command(scope = "hv", name = "disk-remove", description = "Hot-removes the disk with the given path (as hv:info"
        + " shows it) from a running instance: the guest is asked to release it (a bounded wait), then the node's"
        + " QEMU closes it.")
@Service
public final class DiskRemoveCommand extends InstanceAction {

    @Argument(index = 1, name = "path", required = true, description = "The disk's path, as hv:info shows it")
    String path;

    @Override
    Object run(HypervisorRegistry.Entry entry) throws Exception {
        Hypervisor hv = entry.hypervisor();
        hv.hotRemoveDisk(running(hv, name, "hot-remove a disk from"), path);
        System.out.println("Instance " + name + " on " + entry.label() + ": disk " + path + " removed");
        return null;
    }
}
