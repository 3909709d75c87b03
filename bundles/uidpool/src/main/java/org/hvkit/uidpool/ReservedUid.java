package org.hvkit.uidpool;

/**
 * A uid reserved from the pool: its lock file is held under {@code flock} until
 * {@link #unlock()} (keep the uid: the file stays as the "taken" marker, and the process now
 * running under the uid protects it) or {@link #release()} (give it back: the file goes).
 * {@link #close()} releases unless {@link #unlock()} was called, so that
 * {@code try (ReservedUid uid = pool.reserve()) { start; uid.unlock(); }} gives the uid back on
 * any failure (Ganeti's {@code ExecWithUnusedUid}).
 */
public interface ReservedUid extends AutoCloseable {

    long uid();

    /** Keeps the uid taken but drops the lock (Ganeti's {@code LockedUid.Unlock}). */
    void unlock();

    /** Gives the uid back: removes its lock file and drops the lock (Ganeti's {@code ReleaseUid}). */
    void release() throws UidPoolException;

    /** {@link #release()} unless {@link #unlock()} or {@link #release()} already ran. */
    @Override
    void close() throws UidPoolException;
}
