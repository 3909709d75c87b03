package org.hvkit.fake.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(
        id = FakeHypervisor.PID,
        name = "hvkit fake hypervisor",
        description = "Ganeti's fake hypervisor: instances are state files in a directory; nothing runs."
                + " One configuration per simulated node (factory PID org.hvkit.fake~<node>).")
@interface FakeConfiguration {

    // no default: an unconfigured component publishes no hypervisor.node property rather than an empty one
    @AttributeDefinition(name = "Node name", required = false,
            description = "The node this hypervisor simulates; published as the service property"
                    + " hypervisor.node. Unset means this machine's host name.")
    String hypervisor_node();

    @AttributeDefinition(name = "State directory",
            description = "Absolute path of the directory holding one state file per running instance.")
    String state_dir() default "/run/hvkit/fake-hypervisor";
}
