package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.osgi.framework.BundleContext;

/** Base of the hv commands: a fresh {@link HypervisorRegistry} per execution, released afterwards. */
abstract class HvAction implements Action {

    @Reference
    BundleContext bundleContext;

    @Override
    public final Object execute() throws Exception {
        HypervisorRegistry registry = new HypervisorRegistry(bundleContext);
        try {
            return run(registry);
        } finally {
            registry.release();
        }
    }

    abstract Object run(HypervisorRegistry registry) throws Exception;
}
