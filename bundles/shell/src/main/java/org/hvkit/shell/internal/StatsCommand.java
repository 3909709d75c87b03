package org.hvkit.shell.internal;

import java.util.List;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.InstanceStats;

@Command(scope = "hv", name = "stats", description = "What each instance uses: CPU, memory, disk and network I/O,"
        + " uptime (two passes, CPU % over the time between them).")
@Service
public final class StatsCommand extends SelectingAction {

    @Option(name = "-i", aliases = "--interval", description = "Milliseconds between the two passes (CPU %), 100-10000")
    int intervalMillis = 500;

    @Argument(index = 0, name = "name", description = "Only this instance", required = false)
    @Completion(InstanceNameCompleter.class)
    String name;

    @Override
    Object run(HypervisorRegistry registry) throws Exception {
        if (intervalMillis < 100 || intervalMillis > 10_000) {
            throw new HypervisorException("--interval must be 100 to 10000 milliseconds, got " + intervalMillis);
        }
        StatsSource source = new StatsSource(registry.select(type, node), name);
        StatsTable table = new StatsTable();
        table.render(source.pass());
        Thread.sleep(intervalMillis); // Ctrl-C interrupts it
        List<InstanceStats> pass = source.pass();
        System.out.print(table.render(pass));
        if (pass.isEmpty()) {
            System.out.println("(no instances)");
        }
        if (!source.without().isEmpty()) {
            System.out.println("(no statistics from " + source.without() + ")");
        }
        return null;
    }
}
