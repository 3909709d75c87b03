package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.hvkit.hypervisor.ParameterSpec;

@Command(scope = "hv", name = "params", description = "Lists a hypervisor type's parameters: name, type, default,"
        + " check, whether it is global, and what it does.")
@Service
public final class ParamsCommand extends HvAction {

    @Argument(index = 0, name = "type", required = false, description = "Hypervisor type (default: the only one)")
    @Completion(TypeCompleter.class)
    String type;

    @Override
    Object run(HypervisorRegistry registry) throws Exception {
        // every node of a type has the same catalogue: the first one answers
        HypervisorRegistry.Entry e = registry.select(type, null).get(0);
        if (type == null && registry.all().stream().map(HypervisorRegistry.Entry::type).distinct().count() > 1) {
            throw new IllegalArgumentException("Several hypervisor types are registered; name one (hv:params kvm)");
        }
        ShellTable table = new ShellTable();
        table.column("Name");
        table.column("Type");
        table.column("Default");
        table.column("Check");
        table.column("Global");
        table.column("Description").maxSize(60).wrap();
        for (ParameterSpec p : e.hypervisor().parameters().values()) {
            Object d = p.defaultValue();
            table.addRow().addContent(p.name(), p.type().label(), d == null || "".equals(d) ? "\"\"" : d,
                    p.check().label(), p.global() ? "yes" : "", p.description());
        }
        System.out.println("Parameters of " + e.type() + " (" + e.hypervisor().parameters().size() + ")");
        table.print(System.out);
        return null;
    }
}
