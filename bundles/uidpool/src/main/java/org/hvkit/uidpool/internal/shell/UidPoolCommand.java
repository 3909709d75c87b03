package org.hvkit.uidpool.internal.shell;

import java.util.Set;
import java.util.stream.Collectors;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.uidpool.UidPool;
import org.hvkit.uidpool.UidPoolException;
import org.hvkit.uidpool.UidRanges;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/** {@code hv:uidpool}: the pool as an operator sees it (in this bundle, so the hv shell needs no pool). */
@Command(scope = "hv", name = "uidpool", description = "Shows the uid pool: ranges, lock directory, total, taken and free uids.")
@Service
public final class UidPoolCommand implements Action {

    @Reference
    BundleContext bundleContext;

    @Override
    public Object execute() throws Exception {
        ServiceReference<UidPool> ref = bundleContext.getServiceReference(UidPool.class);
        UidPool pool = ref == null ? null : bundleContext.getService(ref);
        if (pool == null) {
            throw new UidPoolException("No uid pool is configured: create etc/org.hvkit.uidpool.cfg with a line like"
                    + " 'pool = 4000-4019' (karaf.log says why a configured pool is not active)");
        }
        try {
            Set<Long> taken = pool.taken();
            line("Pool", UidRanges.format(pool.ranges()));
            line("Lock dir", pool.lockDir().toString());
            line("Total", Long.toString(pool.size()));
            line("Taken", taken.size() + (taken.isEmpty() ? "" : " ("
                    + taken.stream().limit(20).map(String::valueOf).collect(Collectors.joining(", "))
                    + (taken.size() > 20 ? ", …" : "") + ")"));
            line("Free", Long.toString(pool.size() - taken.size()));
        } finally {
            bundleContext.ungetService(ref);
        }
        return null;
    }

    private static void line(String key, String value) {
        System.out.println(String.format("%-9s %s", key, value));
    }
}
