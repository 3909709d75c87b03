package org.hvkit.hypervisor;

import java.nio.file.Path;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Optional capability of a {@link Hypervisor} service whose instances have a serial console on
 * this node: where to attach and where the output is recorded. Since 1.1.
 *
 * <p>Both methods follow {@link Hypervisor}'s name contract: an invalid name is refused with
 * {@link Instance#requireValidName}'s {@link HypervisorException} before anything is touched.
 */
@ProviderType
public interface SerialConsole {

    /** The unix stream socket of a live instance's serial port; empty when it has none. */
    Optional<Path> serialSocket(String name) throws HypervisorException;

    /** The file recording the serial output (also while nobody is attached); empty when none is kept. */
    Optional<Path> serialLog(String name) throws HypervisorException;
}
