package org.hvkit.hypervisor;

/** The run state of an instance as a hypervisor sees it. */
public enum InstanceState {
    /** The guest is running. */
    RUNNING,
    /** The guest exists but its CPUs are stopped (started paused, or during a non-live migration). */
    PAUSED,
    /** The hypervisor process exists but the guest has shut down. */
    SHUTDOWN
}
