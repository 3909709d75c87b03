package org.hvkit.shell.internal;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.osgi.framework.BundleContext;

/** Completes words collected from the hypervisors registered right now. */
abstract class RegistryCompleter implements Completer {

    @Reference
    BundleContext bundleContext;

    /** Adds this completer's words for one hypervisor. */
    abstract void collect(HypervisorRegistry.Entry entry, Set<String> into);

    @Override
    public final int complete(Session session, CommandLine commandLine, List<String> candidates) {
        HypervisorRegistry registry = new HypervisorRegistry(bundleContext);
        TreeSet<String> words = new TreeSet<>();
        try {
            registry.all().forEach(e -> collect(e, words));
        } finally {
            registry.release();
        }
        return new StringsCompleter(words).complete(session, commandLine, candidates);
    }
}
