package org.hvkit.hypervisor;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
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

    /**
     * Connects to a live instance's serial port: the caller reads the guest's output from the
     * channel, writes keystrokes to it, and closes it to detach. The default connects to
     * {@link #serialSocket} with the JDK's unix channels, which refuse socket paths longer than
     * 107 bytes; a provider whose sockets may lie deeper overrides it. Since 1.2.
     *
     * @throws HypervisorException when the instance has no serial socket or it cannot be reached
     */
    default ByteChannel openSerial(String name) throws HypervisorException {
        Path socket = serialSocket(name).orElseThrow(() -> new HypervisorException("Instance " + name
                + " has no serial console socket (serial_console is off, or it is not running)"));
        try {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                return ch;
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            throw new HypervisorException("Cannot connect to the serial console of " + name + " (" + socket + "): "
                    + e.getMessage(), e);
        }
    }
}
