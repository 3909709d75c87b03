package org.hvkit.shell.internal;

import java.util.Set;

import org.apache.karaf.shell.api.action.lifecycle.Service;

/** Completes the node names of the registered hypervisors. */
@Service
public final class NodeCompleter extends RegistryCompleter {

    @Override
    void collect(HypervisorRegistry.Entry entry, Set<String> into) {
        into.add(entry.node());
    }
}
