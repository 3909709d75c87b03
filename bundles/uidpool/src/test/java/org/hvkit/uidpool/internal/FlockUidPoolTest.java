package org.hvkit.uidpool.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.hvkit.netdev.internal.FlockFileLocks;
import org.hvkit.uidpool.ReservedUid;
import org.hvkit.uidpool.UidPoolException;
import org.hvkit.uidpool.UidRange;
import org.hvkit.uidpool.UidRanges;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ganeti's {@code testRequestUnusedUid} and hvkit's additions. */
class FlockUidPoolTest {

    /** Far above any uid an account or process uses here (Ganeti's newest test uses 2^30+42). */
    static final long FREE_UID = (1L << 30) + 42;

    @TempDir
    Path lockDir;

    FlockUidPool pool(List<UidRange> ranges, long seed) {
        return new FlockUidPool(ranges, lockDir, new FlockFileLocks(), new ProcessUids(), new Random(seed));
    }

    FlockUidPool pool(String spec) throws UidPoolException {
        return pool(UidRanges.parse(spec), 1);
    }

    static long ownUid() throws Exception {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    @Test
    void requestUnusedUid() throws Exception {
        // processes run under uid 0 and under our own uid: never handed out
        assertThrows(UidPoolException.class, () -> pool("0").reserve());
        assertThrows(UidPoolException.class, () -> pool(Long.toString(ownUid())).reserve());

        FlockUidPool p = pool(Long.toString(FREE_UID));
        ReservedUid got = p.reserve();
        assertEquals(FREE_UID, got.uid());
        UidPoolException e = assertThrows(UidPoolException.class, p::reserve);
        assertEquals("Failed to find an unused user-id: all 1 user-ids of the pool (" + FREE_UID + ") are taken"
                + " (reserved, or a process runs under them)", e.getMessage());
        got.unlock();
        assertTrue(Files.exists(lockDir.resolve(Long.toString(FREE_UID))), "unlock keeps the taken marker");
        ReservedUid again = p.reserve();
        assertEquals(FREE_UID, again.uid(), "a stale marker is reclaimed");
        again.release();
        assertFalse(Files.exists(lockDir.resolve(Long.toString(FREE_UID))));
    }

    @Test
    void closeReleasesUnlessUnlocked() throws Exception {
        FlockUidPool p = pool(FREE_UID + "-" + (FREE_UID + 1));
        try (ReservedUid a = p.reserve()) {
            assertTrue(Files.exists(lockDir.resolve(Long.toString(a.uid()))));
        }
        assertEquals(Set.of(), p.taken(), "closed without unlock(): given back");
        long kept;
        try (ReservedUid b = p.reserve()) {
            kept = b.uid();
            b.unlock();
        }
        assertEquals(Set.of(kept), p.taken(), "unlocked before close: kept");
    }

    @Test
    void neverUsedFirstThenStale() throws Exception {
        for (long seed = 0; seed < 20; seed++) {
            Path dir = Files.createDirectories(lockDir.resolve("s" + seed));
            Files.createFile(dir.resolve(Long.toString(FREE_UID))); // left by a dead holder
            FlockUidPool p = new FlockUidPool(UidRanges.parse(FREE_UID + "-" + (FREE_UID + 2)), dir,
                    new FlockFileLocks(), new ProcessUids(), new Random(seed));
            List<ReservedUid> got = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                got.add(p.reserve());
            }
            assertEquals(FREE_UID, got.get(2).uid(), "the stale uid comes last (seed " + seed + ")");
            assertEquals(Set.of(FREE_UID + 1, FREE_UID + 2), Set.of(got.get(0).uid(), got.get(1).uid()));
            for (ReservedUid r : got) {
                r.release();
            }
        }
    }

    @Test
    void releaseOfMissingLockFileIsOnlyAWarning() throws Exception {
        pool(Long.toString(FREE_UID)).release(FREE_UID);
    }

    @Test
    void twoThreadsNeverShareAUid() throws Exception {
        FlockUidPool p = pool(FREE_UID + "-" + (FREE_UID + 19));
        List<Long> all = java.util.Collections.synchronizedList(new ArrayList<>());
        List<ReservedUid> held = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            threads.add(new Thread(() -> {
                while (true) {
                    try {
                        ReservedUid r = p.reserve();
                        held.add(r);
                        all.add(r.uid());
                    } catch (UidPoolException e) {
                        return;
                    }
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(20, all.size());
        assertEquals(20, new HashSet<>(all).size(), "no uid twice: " + all);
        for (ReservedUid r : held) {
            r.release();
        }
    }

    @Test
    void largePoolsAreWalkedNotExpanded() throws Exception {
        FlockUidPool p = pool(List.of(new UidRange(FREE_UID, FREE_UID + 10_000_000L)), 7);
        ReservedUid a = p.reserve();
        ReservedUid b = p.reserve();
        assertTrue(a.uid() != b.uid());
        assertTrue(a.uid() >= FREE_UID && a.uid() <= FREE_UID + 10_000_000L);
        a.release();
        b.release();
    }

    @Test
    void unusableLockDir() throws Exception {
        Path file = Files.createFile(lockDir.resolve("file"));
        FlockUidPool p = new FlockUidPool(UidRanges.parse("5"), file.resolve("sub"), new FlockFileLocks(),
                new ProcessUids(), new Random());
        UidPoolException e = assertThrows(UidPoolException.class, p::reserve);
        assertTrue(e.getMessage().startsWith("Failed to create user-id pool lock dir: "), e.getMessage());
    }
}
