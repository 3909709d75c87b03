package org.hvkit.shell.internal;

import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

@Command(scope = "hv", name = "types", description = "Lists the registered hypervisors: type, node, local or remote, and providing bundle.")
@Service
public final class TypesCommand extends HvAction {

    @Override
    Object run(HypervisorRegistry registry) {
        List<HypervisorRegistry.Entry> all = registry.all();
        if (all.isEmpty()) {
            System.out.println("No hypervisor is registered.");
            return null;
        }
        ShellTable table = new ShellTable();
        table.column("Type");
        table.column("Node");
        table.column("Where");
        table.column("Migrate");
        table.column("Bundle");
        table.column("ID").alignRight();
        table.column("Version");
        for (HypervisorRegistry.Entry e : all) {
            // an imported service's bundle is the distribution provider's proxy bundle, not the hypervisor's
            table.addRow().addContent(e.type(), e.node(), e.remote() ? "remote" : "local",
                    e.hypervisor().canMigrate() ? "yes" : "no",
                    e.bundle().getSymbolicName(), e.bundle().getBundleId(), e.bundle().getVersion());
        }
        table.print(System.out);
        return null;
    }
}
