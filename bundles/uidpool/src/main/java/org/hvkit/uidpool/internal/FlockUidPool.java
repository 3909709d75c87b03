package org.hvkit.uidpool.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import org.hvkit.netdev.FileLocks;
import org.hvkit.netdev.LockedFile;
import org.hvkit.netdev.NativeException;
import org.hvkit.uidpool.ReservedUid;
import org.hvkit.uidpool.UidPool;
import org.hvkit.uidpool.UidPoolException;
import org.hvkit.uidpool.UidRange;
import org.hvkit.uidpool.UidRanges;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ganeti's {@code RequestUnusedUid}/{@code ReleaseUid} ({@code lib/uidpool.py};
 * docs/ganeti-behaviour.md, "uid pool") with {@code flock} lock files.
 */
public final class FlockUidPool implements UidPool {

    private static final Logger LOG = LoggerFactory.getLogger(FlockUidPool.class);

    private final List<UidRange> ranges;
    private final long size;
    private final Path lockDir;
    private final FileLocks locks;
    private final ProcessUids processes;
    private final Random random;

    FlockUidPool(List<UidRange> ranges, Path lockDir, FileLocks locks, ProcessUids processes, Random random) {
        this.ranges = List.copyOf(ranges);
        this.size = UidRanges.size(ranges);
        this.lockDir = lockDir;
        this.locks = locks;
        this.processes = processes;
        this.random = random;
    }

    /** A pool outside DS (tests, embedding): the same allocation as the service. */
    public static FlockUidPool create(List<UidRange> ranges, Path lockDir, FileLocks locks) {
        return new FlockUidPool(ranges, lockDir, locks, new ProcessUids(), new java.security.SecureRandom());
    }

    @Override
    public List<UidRange> ranges() {
        return ranges;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public Path lockDir() {
        return lockDir;
    }

    private boolean inPool(long uid) {
        for (UidRange r : ranges) {
            if (r.contains(uid)) {
                return true;
            }
        }
        return false;
    }

    /** Creates the lock directory (mode 0755) if needed. */
    void ensureLockDir() throws UidPoolException {
        try {
            if (!Files.isDirectory(lockDir)) {
                Files.createDirectories(lockDir);
                Files.setPosixFilePermissions(lockDir, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        } catch (IOException e) {
            throw new UidPoolException("Failed to create user-id pool lock dir: " + e, e);
        }
    }

    @Override
    public Set<Long> taken() throws UidPoolException {
        Set<Long> taken = new TreeSet<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(lockDir)) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                if (!n.isEmpty() && n.length() <= 10 && n.chars().allMatch(Character::isDigit)) {
                    long uid = Long.parseLong(n);
                    if (inPool(uid)) {
                        taken.add(uid);
                    }
                }
            }
        } catch (NoSuchFileException e) {
            return taken;
        } catch (IOException e) {
            throw new UidPoolException("Failed to get list of used user-ids: " + e, e);
        }
        return taken;
    }

    @Override
    public ReservedUid reserve() throws UidPoolException {
        ensureLockDir();
        Set<Long> taken = taken();
        if (taken.size() >= size) {
            LOG.info("All user-ids in the uid-pool are marked 'taken'");
        }
        for (long uid : candidates(taken)) {
            Optional<LockedFile> lock;
            try {
                lock = locks.tryLockExclusive(lockDir.resolve(Long.toString(uid)));
            } catch (NativeException e) {
                throw new UidPoolException("Failed to create lockfile for user-id " + uid + ": " + e.getMessage(), e);
            }
            if (lock.isEmpty()) {
                continue; // someone holds it right now
            }
            boolean inUse;
            try {
                inUse = processes.anyProcessRunsAs(uid);
            } catch (IOException e) {
                lock.get().close();
                throw new UidPoolException("Cannot list processes to check user-id " + uid + ": " + e, e);
            }
            if (inUse) {
                lock.get().close(); // keep the file: the uid is taken
                continue;
            }
            return new FlockReservedUid(uid, lock.get());
        }
        throw new UidPoolException("Failed to find an unused user-id: all " + size + " user-ids of the pool ("
                + UidRanges.format(ranges) + ") are taken (reserved, or a process runs under them)");
    }

    /**
     * Never-used uids in random order, then the taken ones in random order (Ganeti's order).
     * Pools too big to shuffle are walked from a random starting point instead.
     */
    private Iterable<Long> candidates(Set<Long> taken) {
        List<Long> stale = new ArrayList<>(taken);
        Collections.shuffle(stale, random);
        if (size <= UidRanges.MAX_EXPAND) {
            List<Long> unused = new ArrayList<>(UidRanges.expand(ranges));
            unused.removeAll(taken);
            Collections.shuffle(unused, random);
            unused.addAll(stale);
            return unused;
        }
        return () -> new LargePoolWalk(ranges, taken, random.nextLong(), stale);
    }

    @Override
    public void release(long uid) throws UidPoolException {
        Path file = lockDir.resolve(Long.toString(uid));
        try {
            if (!Files.deleteIfExists(file)) {
                LOG.warn("Releasing user-id {}: its lock file {} was already gone", uid, file);
            }
        } catch (IOException e) {
            throw new UidPoolException("Failed to remove user-id lockfile for user-id " + uid + ": " + e, e);
        }
    }

    private final class FlockReservedUid implements ReservedUid {
        private final long uid;
        private LockedFile lock;

        FlockReservedUid(long uid, LockedFile lock) {
            this.uid = uid;
            this.lock = lock;
        }

        @Override
        public long uid() {
            return uid;
        }

        @Override
        public synchronized void unlock() {
            if (lock != null) {
                lock.close();
                lock = null;
            }
        }

        @Override
        public synchronized void release() throws UidPoolException {
            // remove the file while still holding the lock, so nobody locks it in between
            try {
                FlockUidPool.this.release(uid);
            } finally {
                unlock();
            }
        }

        @Override
        public synchronized void close() throws UidPoolException {
            if (lock != null) {
                release();
            }
        }

        @Override
        public String toString() {
            return "ReservedUid[" + uid + (lock == null ? "" : ", locked") + "]";
        }
    }
}
