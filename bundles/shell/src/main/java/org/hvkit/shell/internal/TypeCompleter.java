package org.hvkit.shell.internal;

import java.util.List;
import java.util.stream.Collectors;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.osgi.framework.BundleContext;

/** Completes the types of the registered hypervisors. */
@Service
public final class TypeCompleter implements Completer {

    @Reference
    BundleContext bundleContext;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        HypervisorRegistry registry = new HypervisorRegistry(bundleContext);
        try {
            List<String> types = registry.all().stream().map(HypervisorRegistry.Entry::type).distinct()
                    .collect(Collectors.toList());
            return new StringsCompleter(types).complete(session, commandLine, candidates);
        } finally {
            registry.release();
        }
    }
}
