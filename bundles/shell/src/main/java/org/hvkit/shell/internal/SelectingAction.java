package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;

/** Base of the commands that narrow the hypervisors they look at with {@code -t TYPE} and {@code -n NODE}. */
abstract class SelectingAction extends HvAction {

    @Option(name = "-t", aliases = "--type", description = "Only look at hypervisors of this type")
    @Completion(TypeCompleter.class)
    String type;

    @Option(name = "-n", aliases = "--node", description = "Only look at hypervisors of this node")
    @Completion(NodeCompleter.class)
    String node;
}
