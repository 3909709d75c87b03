package org.hvkit.netdev;

import java.nio.file.Path;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * {@code flock(2)} locks. Java's {@code FileChannel.lock} uses {@code fcntl} record locks,
 * which neither exclude {@code flock} holders (e.g. a Python Ganeti node) nor other channels
 * of the same JVM; this service uses {@code flock} itself.
 */
@ProviderType
public interface FileLocks {

    /**
     * Opens (creating it with mode 0644 if missing, never truncating) {@code file} and tries a
     * non-blocking exclusive lock.
     *
     * @return the locked file, or empty when someone else holds the lock
     * @throws NativeException when the file cannot be opened or locked for another reason
     */
    Optional<LockedFile> tryLockExclusive(Path file) throws NativeException;
}
