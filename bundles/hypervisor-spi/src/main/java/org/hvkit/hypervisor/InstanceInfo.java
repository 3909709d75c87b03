package org.hvkit.hypervisor;

import java.io.Serializable;
import java.util.Objects;

/**
 * What a hypervisor knows about a live instance (Ganeti's {@code GetInstanceInfo} tuple).
 *
 * @param name           the instance name
 * @param pid            the process id of the VM process, or -1 when there is none (fake)
 * @param memoryMiB      memory in MiB
 * @param vcpus          virtual CPUs
 * @param state          run state
 * @param cpuTimeSeconds CPU time consumed, 0 when unknown
 */
public record InstanceInfo(String name, long pid, long memoryMiB, int vcpus, InstanceState state,
                           double cpuTimeSeconds) implements Serializable {

    private static final long serialVersionUID = 1L;

    public InstanceInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(state, "state");
    }
}
