package org.hvkit.uidpool;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The node's uid pool (Ganeti's {@code RequestUnusedUid}/{@code ReleaseUid}). Lock files
 * {@code <lockDir>/<uid>} are locked with {@code flock(2)}, exactly like Ganeti, so hvkit and a
 * Python Ganeti node sharing the lock directory never hand out the same uid.
 */
@ProviderType
public interface UidPool {

    /** The configured ranges, as written (sorted). */
    List<UidRange> ranges();

    /** Distinct uids in the pool. */
    long size();

    /** Where the lock files live. */
    Path lockDir();

    /** Pool uids that have a lock file (reserved, or left behind by a crashed holder). */
    Set<Long> taken() throws UidPoolException;

    /**
     * Reserves a uid that no process runs under: never-used uids first in random order, then
     * uids with a stale lock file; each candidate is locked before it is checked.
     *
     * @throws UidPoolException when every uid is taken, or the lock directory is unusable
     */
    ReservedUid reserve() throws UidPoolException;

    /**
     * Releases a uid by number (its lock file is removed). A missing lock file only logs a
     * warning (Ganeti's {@code ReleaseUid} raises there; docs/ganeti-behaviour.md, "uid pool").
     */
    void release(long uid) throws UidPoolException;
}
