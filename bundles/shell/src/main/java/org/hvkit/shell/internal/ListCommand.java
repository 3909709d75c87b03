package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.hvkit.hypervisor.InstanceInfo;

@Command(scope = "hv", name = "list", description = "Lists the instances alive on the registered hypervisors.")
@Service
public final class ListCommand extends SelectingAction {

    @Override
    Object run(HypervisorRegistry registry) throws Exception {
        ShellTable table = new ShellTable();
        table.column("Name");
        table.column("Type");
        table.column("Node");
        table.column("State");
        table.column("Memory (MiB)").alignRight();
        table.column("VCPUs").alignRight();
        table.column("PID").alignRight();
        int rows = 0;
        for (HypervisorRegistry.Entry e : registry.select(type, node)) {
            for (InstanceInfo i : e.hypervisor().allInstancesInfo()) {
                table.addRow().addContent(i.name(), e.type(), e.node(), i.state().name().toLowerCase(),
                        i.memoryMiB(), i.vcpus(), i.pid() < 0 ? "-" : i.pid());
                rows++;
            }
        }
        table.print(System.out);
        if (rows == 0) {
            System.out.println("(no instances)");
        }
        return null;
    }
}
