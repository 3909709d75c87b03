package org.hvkit.shell.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

    @Option(name = "--dry-run", description = "Print the exact command line as one JSON array; start nothing")
    boolean dryRun;

    @Argument(index = 0, name = "file", required = true, description = "Instance definition (JSON)")
    @Completion(FileCompleter.class)
    String file;

    @Override
    Object run(HypervisorRegistry registry) throws Exception {
        Path path = Path.of(file);
        String json;
        try {
            json = Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new HypervisorException("Cannot read instance file " + path.toAbsolutePath() + ": " + e);
        }
        Instance instance = InstanceJson.read(json, w -> System.out.println("Warning: " + w));
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
            System.out.println(JSON.writeValueAsString(((CommandLinePreview) hv).previewCommand(ready)));
            return null;
        }
        if (hv.listInstances().contains(instance.name())) {
            throw new HypervisorException("Failed to start instance " + instance.name() + ": already running");
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
