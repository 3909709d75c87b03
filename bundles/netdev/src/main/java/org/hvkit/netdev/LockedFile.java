package org.hvkit.netdev;

import java.nio.file.Path;

/**
 * A file held under an exclusive {@code flock(2)} lock. Closing releases the lock (the file
 * stays). Locks of this kind exclude other processes (Ganeti's Python {@code fcntl.flock}
 * included) and other open file descriptions in this process.
 */
public interface LockedFile extends AutoCloseable {

    Path path();

    /** Releases the lock and closes the file. */
    @Override
    void close();
}
