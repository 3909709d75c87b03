package org.hvkit.uidpool.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.hvkit.netdev.NativeTests;
import org.hvkit.netdev.internal.FlockFileLocks;
import org.hvkit.uidpool.ReservedUid;
import org.hvkit.uidpool.UidPoolException;
import org.hvkit.uidpool.UidRanges;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A uid is never handed out while a process runs under it, even when its lock file is stale:
 * a real process is started under a pool uid with {@code setpriv} (needs root).
 */
class StaleLockWithRealProcessTest {

    @Test
    void uidOfARunningProcessIsSkippedUntilItExits(@TempDir Path lockDir) throws Exception {
        NativeTests.require("uidOfARunningProcessIsSkippedUntilItExits (starts a process under another uid)",
                NativeTests.whyNotRoot());
        long busy = FlockUidPoolTest.FREE_UID + 100;
        long stale = busy + 1;
        Process sleeper = new ProcessBuilder("setpriv", "--reuid=" + busy, "--regid=" + busy, "--clear-groups",
                "sleep", "60").start();
        try {
            waitUntilRunningAs(busy);
            Files.createFile(lockDir.resolve(Long.toString(stale))); // left behind by a crashed start
            FlockUidPool pool = new FlockUidPool(UidRanges.parse(busy + "-" + stale), lockDir, new FlockFileLocks(),
                    new ProcessUids(), new Random(3));
            ReservedUid first = pool.reserve();
            assertEquals(stale, first.uid(), "the never-used uid is busy, so the stale one is reclaimed");
            // while we hold the stale one, nothing is left: the busy uid stays skipped
            assertThrows(UidPoolException.class, pool::reserve, "the busy uid stays skipped");
            sleeper.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            waitUntilNotRunningAs(busy);
            first.release();
            // checking the busy uid left its marker; the stale one was released: now the released
            // one counts as never used and comes first, and the busy uid is reclaimed after it
            try (ReservedUid next = pool.reserve(); ReservedUid last = pool.reserve()) {
                assertEquals(List.of(stale, busy), List.of(next.uid(), last.uid()));
            }
        } finally {
            sleeper.destroyForcibly();
        }
    }

    private static void waitUntilRunningAs(long uid) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!new ProcessUids().anyProcessRunsAs(uid)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no process under uid " + uid);
            }
            Thread.sleep(10);
        }
    }

    private static void waitUntilNotRunningAs(long uid) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (new ProcessUids().anyProcessRunsAs(uid)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("a process still runs under uid " + uid);
            }
            Thread.sleep(10);
        }
    }
}
