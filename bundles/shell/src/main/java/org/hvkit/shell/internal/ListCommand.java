package org.hvkit.shell.internal;

import java.util.List;
import java.util.Locale;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.hvkit.hypervisor.InstanceInfo;

@Command(scope = "hv", name = "list", description = "Lists the instances alive on the registered hypervisors.")
@Service
public final class ListCommand extends SelectingAction {

    @Override
    Object run(HypervisorRegistry registry) throws Exception {
        long started = System.nanoTime();
        ShellTable table = new ShellTable();
        table.column("Name");
        table.column("Type");
        table.column("Node");
        table.column("State");
        table.column("Memory (MiB)").alignRight();
        table.column("VCPUs").alignRight();
        table.column("PID").alignRight();
        int rows = 0;
        List<HypervisorRegistry.Entry> selected = registry.select(type, node);
        for (HypervisorRegistry.Entry e : selected) {
            for (InstanceInfo i : e.hypervisor().allInstancesInfo()) {
                table.addRow().addContent(i.name(), e.type(), e.node(), StateLabels.of(i.state()),
                        i.memoryMiB(), i.vcpus(), i.pid() < 0 ? "-" : i.pid());
                rows++;
            }
        }
        table.print(System.out);
        if (rows == 0) {
            System.out.println("(no instances)");
        } else {
            // like a database shell's "n rows in set (0.01 sec)": the query and the table, not the ssh round trip
            System.out.println(String.format(Locale.ROOT, "%d instance%s on %d hypervisor%s, listed in %.1f ms", rows,
                    rows == 1 ? "" : "s", selected.size(), selected.size() == 1 ? "" : "s",
                    (System.nanoTime() - started) / 1e6));
        }
        return null;
    }
}
