package org.hvkit.shell.internal;

import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.MigrationCoordinator;
import org.hvkit.hypervisor.MigrationStatus;
import org.osgi.framework.ServiceException;

@Command(scope = "hv", name = "migrate", description = "Migrates a running instance to another node of the same"
        + " hypervisor type: Ganeti's sequence migrationInfo -> accept -> migrate -> finalize, with progress;"
        + " any failure aborts the target and leaves the instance running on its source.")
@Service
public final class MigrateCommand extends HvAction {

    @Option(name = "--non-live", description = "Pause the guest during the transfer")
    boolean nonLive;

    @Option(name = "-t", aliases = "--type", description = "Only look at hypervisors of this type")
    @Completion(TypeCompleter.class)
    String type;

    @Argument(index = 0, name = "name", required = true, description = "Instance name")
    @Completion(InstanceNameCompleter.class)
    String name;

    @Argument(index = 1, name = "target", required = true, description = "Target node")
    @Completion(NodeCompleter.class)
    String targetNode;

    @Override
    Object run(HypervisorRegistry registry) throws Exception {
        HypervisorRegistry.Entry source = registry.locate(name, type, null);
        HypervisorRegistry.Entry target = registry.one(source.type(), targetNode);
        if (target.node().equals(source.node())) {
            throw new HypervisorException("Instance " + name + " already runs on " + targetNode);
        }
        if (!source.hypervisor().canMigrate()) {
            throw new HypervisorException("Hypervisor " + source.label() + " cannot migrate");
        }
        Hypervisor from = source.hypervisor();
        Instance instance = from.runningInstance(name);
        if (instance == null) {
            throw new HypervisorException("Instance " + name + " stopped meanwhile");
        }
        Object addr = target.reference().getProperty(Hypervisor.ADDRESS_PROPERTY);
        String address = addr == null ? "127.0.0.1" : addr.toString();
        boolean live = !nonLive;
        System.out.println("Migrating " + name + " from " + source.label() + " to " + target.label() + " at " + address
                + (live ? " (live)" : " (non-live)"));
        long t0 = System.nanoTime();
        try {
            MigrationCoordinator.migrate(from, target.hypervisor(), instance, address, live,
                    new MigrationCoordinator.Listener() {
                        @Override
                        public void accepted() {
                            System.out.println("  target accepted the instance");
                        }

                        @Override
                        public void status(MigrationStatus st) {
                            System.out.println(progressLine(st));
                        }
                    });
        } catch (ServiceException transport) {
            throw new HypervisorException(remoteFailure(name, List.of(source, target), transport), transport);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long downtime = from.migrationStatus(instance).downtimeMillis();
        System.out.println(String.format(java.util.Locale.ROOT, "Instance %s migrated to %s in %.1f s%s", name,
                target.label(), seconds, downtime >= 0 ? " (the guest paused for " + downtime + " ms)" : ""));
        return null;
    }

    /**
     * The error of a migration whose remote call failed in the transport (a host died, a
     * connection was reset: OSGi Remote Services' {@code ServiceException}, whose message the
     * provider leaves bare, e.g. "Connection reset"): names the remote hypervisors and where they
     * were called.
     */
    static String remoteFailure(String instance, List<HypervisorRegistry.Entry> parties, ServiceException e) {
        StringBuilder remote = new StringBuilder();
        for (HypervisorRegistry.Entry p : parties) {
            if (p.remote()) {
                remote.append(remote.length() == 0 ? "" : " or ").append(p.label())
                        .append(p.endpoint() == null ? "" : " at " + p.endpoint());
            }
        }
        return "Migration of " + instance + " failed: a remote call" + (remote.length() == 0 ? "" : " to " + remote)
                + " failed: " + e.getMessage();
    }

    /** One progress line: state, phase, amount, and what decides convergence (dirty rate, expected pause). */
    static String progressLine(MigrationStatus st) {
        StringBuilder b = new StringBuilder(String.format(java.util.Locale.ROOT, "  %s", st.status().name()
                .toLowerCase(java.util.Locale.ROOT)));
        if (st.phase() != MigrationStatus.Phase.NONE) {
            b.append(" (").append(st.phase().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')).append(')');
        }
        b.append(String.format(java.util.Locale.ROOT, ": %.1f of %.1f MiB transferred", st.transferred() / 1048576.0,
                st.total() / 1048576.0));
        if (st.dirtyPagesRate() >= 0) {
            b.append(", ").append(st.dirtyPagesRate()).append(" pages/s dirtied");
        }
        if (st.expectedDowntimeMillis() >= 0) {
            b.append(", expected downtime ").append(st.expectedDowntimeMillis()).append(" ms");
        }
        if (st.phase() == MigrationStatus.Phase.POST_COPY) {
            b.append(" — the guest runs on the target now and can no longer return to the source");
        }
        return b.toString();
    }
}
