package org.hvkit.shell.internal;

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
        Instance instance = from.runningInstance(name).orElseThrow(
                () -> new HypervisorException("Instance " + name + " stopped meanwhile"));
        Object addr = target.reference().getProperty(Hypervisor.ADDRESS_PROPERTY);
        String address = addr == null ? "127.0.0.1" : addr.toString();
        boolean live = !nonLive;
        System.out.println("Migrating " + name + " from " + source.label() + " to " + target.label() + " at " + address
                + (live ? " (live)" : " (non-live)"));
        long t0 = System.nanoTime();
        MigrationCoordinator.migrate(from, target.hypervisor(), instance, address, live,
                new MigrationCoordinator.Listener() {
                    @Override
                    public void accepted() {
                        System.out.println("  target accepted the instance");
                    }

                    @Override
                    public void status(MigrationStatus st) {
                        System.out.println(String.format("  %s: %.1f of %.1f MiB transferred", st.status().name()
                                .toLowerCase(), st.transferred() / 1048576.0, st.total() / 1048576.0));
                    }
                });
        System.out.println(String.format("Instance %s migrated to %s in %.1f s", name, target.label(),
                (System.nanoTime() - t0) / 1e9));
        return null;
    }
}
