package org.hvkit.shell.internal;

import java.util.ArrayList;
import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;

@Command(scope = "hv", name = "cleanup", description = "Removes the runtime files of a stopped instance (pid, sockets,"
        + " runtime, uid, nic files, chroot); refuses a live one.")
@Service
public final class CleanupCommand extends SelectingAction {

    @Argument(index = 0, name = "name", required = true, description = "Instance name")
    String name;

    @Override
    Object run(HypervisorRegistry registry) throws Exception {
        // a stopped instance is listed nowhere: clean up on every matching hypervisor (idempotent);
        // a live one is refused before anything is touched anywhere
        Instance.requireValidName(name);
        List<HypervisorRegistry.Entry> selected = registry.select(type, node);
        List<HypervisorRegistry.Entry> live = HypervisorRegistry.running(name, selected);
        if (!live.isEmpty()) {
            throw new HypervisorException("Cannot cleanup a live instance " + name + " (running on "
                    + live.get(0).label() + ")");
        }
        List<HypervisorRegistry.Entry> known = new ArrayList<>();
        for (HypervisorRegistry.Entry e : selected) {
            if (e.hypervisor().knownInstances().contains(name)) {
                known.add(e);
            }
        }
        if (known.isEmpty()) {
            throw new HypervisorException("Instance '" + name + "' has no runtime state on any registered hypervisor"
                    + " (looked at: " + HypervisorRegistry.labels(selected) + "); nothing to clean up");
        }
        for (HypervisorRegistry.Entry e : known) {
            e.hypervisor().cleanupInstance(name);
            System.out.println("Cleaned up " + name + " on " + e.label());
        }
        return null;
    }
}
