package org.hvkit.hypervisor;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Optional capability of a {@link Hypervisor} service that can tell what each live instance
 * uses (libvirt's {@code virsh domstats}): CPU time, memory, disk and network I/O, uptime. A
 * provider registers its service under this interface name too. Since 1.3.
 *
 * <p>Every figure is a counter or a gauge read at {@link InstanceStats#sampledAtMillis}; rates
 * (CPU %, bytes per second) are the caller's: the difference of two samples over the time
 * between them. Collection is bounded: an instance whose figures could not all be read in time
 * (a hung or stopped QEMU) comes back {@link InstanceStats#stale} with what could be read and
 * the others' figures are not held up by it.
 *
 * <p>{@link #instanceStatistics} follows {@link Hypervisor}'s name contract: an invalid name is
 * refused with {@link Instance#requireValidName}'s {@link HypervisorException}.
 */
@ProviderType
public interface InstanceStatistics {

    /**
     * The figures of every live instance of this node, collected in one pass (one answer per
     * instance, ordered by name); never blocks much longer than the provider's bound for one pass.
     */
    List<InstanceStats> allInstanceStatistics();

    /** The figures of one instance; empty when it is not running on this node. */
    Optional<InstanceStats> instanceStatistics(String name) throws HypervisorException;
}
