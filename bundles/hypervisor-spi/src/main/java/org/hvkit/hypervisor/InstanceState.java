package org.hvkit.hypervisor;

/** The run state of an instance as a hypervisor sees it. */
public enum InstanceState {
    /** The guest is running. */
    RUNNING,
    /** The guest exists but its CPUs are stopped (started paused, or during a non-live migration). */
    PAUSED,
    /**
     * The hypervisor process exists but the guest has shut down by itself (KVM: a QEMU under
     * Ganeti 3.0's user_shutdown, {@code -no-shutdown}, whose guest powered off); until the
     * instance is stopped, cleaned up or started again.
     */
    SHUTDOWN,
    /**
     * The hypervisor process exists but does not answer (stopped with SIGSTOP, hung); its
     * figures may be stale. Since 1.2: consumers that switch over this enum need a branch (or
     * a default) for it.
     */
    UNRESPONSIVE
}
