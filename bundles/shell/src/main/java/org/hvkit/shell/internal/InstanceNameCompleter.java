package org.hvkit.shell.internal;

import java.util.List;
import java.util.TreeSet;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.hvkit.hypervisor.HypervisorException;
import org.osgi.framework.BundleContext;

/** Completes the names of the instances alive on any registered hypervisor. */
@Service
public final class InstanceNameCompleter implements Completer {

    @Reference
    BundleContext bundleContext;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        HypervisorRegistry registry = new HypervisorRegistry(bundleContext);
        TreeSet<String> names = new TreeSet<>();
        try {
            for (HypervisorRegistry.Entry e : registry.all()) {
                try {
                    names.addAll(e.hypervisor().listInstances());
                } catch (HypervisorException ex) {
                    // a hypervisor that cannot list offers no completions
                }
            }
        } finally {
            registry.release();
        }
        return new StringsCompleter(names).complete(session, commandLine, candidates);
    }
}
