package org.hvkit.shell.internal;

import java.util.List;
import java.util.TreeSet;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.osgi.framework.BundleContext;

/** Completes the node names of the registered hypervisors. */
@Service
public final class NodeCompleter implements Completer {

    @Reference
    BundleContext bundleContext;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        HypervisorRegistry registry = new HypervisorRegistry(bundleContext);
        TreeSet<String> nodes = new TreeSet<>();
        try {
            registry.all().forEach(e -> nodes.add(e.node()));
        } finally {
            registry.release();
        }
        return new StringsCompleter(nodes).complete(session, commandLine, candidates);
    }
}
