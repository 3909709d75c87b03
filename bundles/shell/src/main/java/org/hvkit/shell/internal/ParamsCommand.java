package org.hvkit.shell.internal;

import java.util.Map;
import java.util.Objects;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
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

    @Option(name = "-n", aliases = "--node", description = "Show this node's defaults (etc/org.hvkit.kvm-*.cfg"
            + " hvparam.<name> keys); default: the first node of the type")
    @Completion(NodeCompleter.class)
    String node;

    @Override
    Object run(HypervisorRegistry registry) throws Exception {
        // every node of a type has the same catalogue; nodes may differ in their defaults
        HypervisorRegistry.Entry e = registry.select(type, node).get(0);
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
        Map<String, Object> nodeDefaults = e.hypervisor().defaults();
        for (ParameterSpec p : e.hypervisor().parameters().values()) {
            Object d = nodeDefaults.containsKey(p.name()) ? nodeDefaults.get(p.name()) : p.defaultValue();
            String shown = show(d);
            if (!Objects.equals(d, p.defaultValue())) {
                shown += " (node; Ganeti: " + show(p.defaultValue()) + ")";
            }
            table.addRow().addContent(p.name(), p.type().label(), shown,
                    p.check().label(), p.global() ? "yes" : "", p.description());
        }
        System.out.println("Parameters of " + e.type() + " (" + e.hypervisor().parameters().size() + "), defaults of "
                + e.label());
        table.print(System.out);
        return null;
    }

    private static String show(Object value) {
        return value == null || "".equals(value) ? "\"\"" : value.toString();
    }
}
