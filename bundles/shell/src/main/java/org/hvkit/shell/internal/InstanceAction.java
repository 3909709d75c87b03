package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;

/** Base of the commands that act on one live instance, found by name among the hypervisors. */
abstract class InstanceAction extends HvAction {

    @Option(name = "-t", aliases = "--type", description = "Only look at hypervisors of this type")
    @Completion(TypeCompleter.class)
    String type;

    @Option(name = "-n", aliases = "--node", description = "Only look at hypervisors of this node")
    @Completion(NodeCompleter.class)
    String node;

    @Argument(index = 0, name = "name", required = true, description = "Instance name")
    @Completion(InstanceNameCompleter.class)
    String name;

    @Override
    final Object run(HypervisorRegistry registry) throws Exception {
        return run(registry.locate(name, type, node));
    }

    abstract Object run(HypervisorRegistry.Entry entry) throws Exception;
}
