package org.hvkit.netdev;

import java.time.Duration;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Runs processes that inherit chosen descriptors at chosen numbers — what
 * {@link java.lang.ProcessBuilder} cannot do (it closes everything above 2). Used to hand tap
 * descriptors to QEMU ({@code -netdev tap,fd=N}): the number in QEMU's argv is the number the
 * child really has.
 */
@ProviderType
public interface ProcessSpawner {

    /**
     * Starts the process and waits until it exits (a daemonizing QEMU exits once the daemon
     * is ready) or {@code timeout} elapses (then it is killed and reaped; since 1.2 with every
     * process still in its process group, so that what a hung script started dies too).
     *
     * @throws NativeException when the process cannot be started (program missing, not executable …)
     */
    SpawnResult run(SpawnRequest request, Duration timeout) throws NativeException;
}
