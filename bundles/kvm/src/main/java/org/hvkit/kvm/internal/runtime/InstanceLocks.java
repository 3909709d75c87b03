package org.hvkit.kvm.internal.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.netdev.FileLocks;
import org.hvkit.netdev.LockedFile;
import org.hvkit.netdev.NativeException;

/**
 * One operation per instance at a time, across threads and JVMs: an exclusive {@code flock} on
 * {@code lock/<name>} held for the whole operation (start, stop, reboot, cleanup, migration).
 * {@code flock} locks belong to open file descriptions, so two threads of one JVM exclude each
 * other just like two processes. The holder writes what it does into the file, so that a
 * refused caller can say "busy: start since …". Fault injection found two concurrent starts
 * that both failed and left an unreachable QEMU, and a cleanup that deleted the runtime file of
 * a start still in progress.
 *
 * <p>A cleanup removes the lock file while holding it: netdev's {@code flock} only counts a
 * lock on the inode that is still at the path, so a waiter that locked the removed inode
 * retries on a new file instead of believing it holds the lock.
 */
public final class InstanceLocks {

    private static final long POLL_MILLIS = 25;

    private final RuntimePaths paths;
    private final FileLocks locks;
    private final String owner;

    /** @param owner who holds locks here, e.g. {@code node node-a, pid 1234} */
    public InstanceLocks(RuntimePaths paths, FileLocks locks, String owner) {
        this.paths = paths;
        this.locks = locks;
        this.owner = owner;
    }

    /** A held instance lock; closing releases it. */
    public static final class Held implements AutoCloseable {
        private final LockedFile file;
        private boolean remove;

        private Held(LockedFile file) {
            this.file = file;
        }

        /** Removes the lock file on release (the instance has no runtime state left). */
        public void removeOnRelease() {
            remove = true;
        }

        @Override
        public void close() {
            if (remove) {
                try {
                    Files.deleteIfExists(file.path());
                } catch (IOException e) {
                    // a lock file that stays is harmless: the next operation locks it again
                }
            }
            file.close();
        }
    }

    /**
     * Takes the lock of {@code name} for {@code operation}, waiting at most {@code wait} for a
     * holder to finish.
     *
     * @throws HypervisorException "Instance x is busy: stop since … (node a, pid 12); try again later"
     */
    public Held acquire(String name, String operation, Duration wait) throws HypervisorException {
        Path file = paths.confined(paths.lockFile(name));
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            Optional<Held> held = tryOnce(name, file, operation);
            if (held.isPresent()) {
                return held.get();
            }
            if (System.nanoTime() > deadline) {
                throw new HypervisorException("Instance " + name + " is busy: " + holder(file)
                        + "; try again when it has finished");
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HypervisorException("Interrupted while waiting for instance " + name + " (" + holder(file)
                        + ")", e);
            }
        }
    }

    private Optional<Held> tryOnce(String name, Path file, String operation) throws HypervisorException {
        Optional<LockedFile> got;
        try {
            got = locks.tryLockExclusive(file);
        } catch (NativeException e) {
            throw new HypervisorException("Cannot lock instance " + name + " (" + file + "): " + e.getMessage(), e);
        }
        if (got.isEmpty()) {
            return Optional.empty();
        }
        record(got.get(), operation);
        return Optional.of(new Held(got.get()));
    }

    /**
     * Takes {@code hvkit.lock} of the root for the lifetime of a component: two node
     * configurations sharing one root.dir would both claim every instance in it.
     *
     * @throws HypervisorException naming the holder when another component owns the directory
     */
    public Held ownRoot() throws HypervisorException {
        Path file = paths.rootLock();
        Optional<LockedFile> got;
        try {
            got = locks.tryLockExclusive(file);
        } catch (NativeException e) {
            throw new HypervisorException("Cannot lock the runtime directory " + paths.root() + " (" + file + "): "
                    + e.getMessage(), e);
        }
        if (got.isEmpty()) {
            throw new HypervisorException("root.dir " + paths.root() + " is already used by another KVM hypervisor ("
                    + holder(file) + "); give every node configuration a root.dir of its own");
        }
        record(got.get(), "owned");
        return new Held(got.get());
    }

    private void record(LockedFile f, String operation) throws HypervisorException {
        String text = operation + " since " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + " (" + owner + ")\n";
        try {
            // flock is advisory: writing through a second descriptor while holding the lock is fine
            Files.writeString(f.path(), text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            try {
                // we hold it, so removing it is safe (see the class comment): a failed lock leaves no file
                Files.deleteIfExists(f.path());
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            f.close();
            throw new HypervisorException("Cannot write the lock file " + f.path() + ": " + e.getMessage(), e);
        }
    }

    private static String holder(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            return text.isEmpty() ? "another operation is in progress" : text;
        } catch (NoSuchFileException e) {
            return "another operation is in progress";
        } catch (IOException e) {
            return "another operation is in progress (" + e.getMessage() + ")";
        }
    }
}
