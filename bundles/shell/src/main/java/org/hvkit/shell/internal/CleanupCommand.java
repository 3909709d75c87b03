package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Command(scope = "hv", name = "cleanup", description = "Removes the runtime files of a stopped instance (pid, sockets,"
        + " runtime, uid, nic files, chroot); refuses a live one.")
@Service
public final class CleanupCommand extends SelectingAction {

    @Argument(index = 0, name = "name", required = true, description = "Instance name")
    String name;

    @Override
    Object run(HypervisorRegistry registry) throws Exception {
        // a stopped instance is listed nowhere: clean up on every matching hypervisor (idempotent)
        for (HypervisorRegistry.Entry e : registry.select(type, node)) {
            e.hypervisor().cleanupInstance(name);
            System.out.println("Cleaned up " + name + " on " + e.label());
        }
        return null;
    }
}
