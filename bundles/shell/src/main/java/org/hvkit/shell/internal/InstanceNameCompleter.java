package org.hvkit.shell.internal;

import java.util.Set;

import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.HypervisorException;

/** Completes the names of the instances alive on any registered hypervisor. */
@Service
public final class InstanceNameCompleter extends RegistryCompleter {

    @Override
    void collect(HypervisorRegistry.Entry entry, Set<String> into) {
        try {
            into.addAll(entry.hypervisor().listInstances());
        } catch (HypervisorException e) {
            // a hypervisor that cannot list offers no completions
        }
    }
}
