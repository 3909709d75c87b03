package org.hvkit.shell.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;
import org.hvkit.hypervisor.CommandLinePreview;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceJson;
import org.hvkit.hypervisor.ParameterChecks;

@Command(scope = "hv", name = "start", description = "Starts an instance from a JSON file in Ganeti's instance shape.")
@Service
public final class StartCommand extends HvAction {

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    @Option(name = "-t", aliases = "--type", description = "Hypervisor type (default: the file's \"hypervisor\","
            + " or the only registered type)")
    @Completion(TypeCompleter.class)
    String type;

    @Option(name = "-n", aliases = "--node", description = "Node to start on (default: the file's \"primary_node\","
            + " or the only node of the type)")
    @Completion(NodeCompleter.class)
    String node;

    @Option(name = "--paused", description = "Leave the guest's CPUs stopped after start")
    boolean paused;

    @Option(name = "--dry-run", description = "Print the exact command line as one JSON array (and the warnings a"
            + " start would log); start nothing")
    boolean dryRun;

    @Option(name = "--lenient", description = "Warn about unknown fields in the instance file instead of refusing it")
    boolean lenient;

    @Argument(index = 0, name = "file", required = true, description = "Instance definition (JSON)")
    @Completion(FileCompleter.class)
    String file;

    @Override
    Object run(HypervisorRegistry registry) throws Exception {
        // a regular file of at most 1 MiB: /dev/zero, a FIFO or a huge file never reach the JVM's heap
        Instance instance = InstanceJson.readFile(Path.of(file).toAbsolutePath(),
                w -> System.out.println("Warning: " + w), lenient);
        String wanted = type != null ? type : instance.hypervisor().isEmpty() ? null : instance.hypervisor();
        String wantedNode = node != null ? node : instance.primaryNode().isEmpty() ? null : instance.primaryNode();
        HypervisorRegistry.Entry entry = registry.one(wanted, wantedNode);
        Hypervisor hv = entry.hypervisor();

        ParameterChecks.checkNoGlobalOverrides(hv.parameters(), instance.hvparams());
        Map<String, Object> filled = ParameterChecks.fill(hv.parameters(), hv.defaults(), instance.hvparams());
        hv.checkParameterSyntax(filled);
        hv.validateParameters(filled);
        for (String warning : hv.assessParameters(filled)) {
            System.out.println("Warning: " + warning);
        }
        Instance ready = instance.toBuilder().hypervisor(entry.type()).primaryNode(entry.node()).hvparams(filled).build();
        if (dryRun) {
            if (!(hv instanceof CommandLinePreview)) {
                throw new HypervisorException("Hypervisor " + entry.label() + " runs no command, so there is nothing to"
                        + " preview (--dry-run)");
            }
            CommandLinePreview.CommandLine preview = ((CommandLinePreview) hv).preview(ready);
            for (String warning : preview.warnings()) {
                if (!hv.assessParameters(filled).contains(warning)) {
                    System.out.println("Warning: " + warning);
                }
            }
            System.out.println(JSON.writeValueAsString(preview.argv()));
            return null;
        }
        // one name runs on one node: a start next to a running namesake elsewhere is refused
        List<HypervisorRegistry.Entry> running = HypervisorRegistry.running(instance.name(), registry.all());
        if (!running.isEmpty()) {
            throw new HypervisorException("Failed to start instance " + instance.name() + ": already running on "
                    + HypervisorRegistry.labels(running));
        }
        // progress: starting returns once the hypervisor answers for the instance (KVM: its QMP monitor)
        System.out.println("Starting " + instance.name() + " on " + entry.label() + (paused ? " with its CPUs stopped" : "")
                + " ...");
        System.out.flush();
        long started = System.nanoTime();
        hv.startInstance(ready, paused);
        System.out.println(String.format("Instance %s started on %s%s in %.1f s", instance.name(), entry.label(),
                paused ? " (paused)" : "", (System.nanoTime() - started) / 1e9));
        return null;
    }
}
