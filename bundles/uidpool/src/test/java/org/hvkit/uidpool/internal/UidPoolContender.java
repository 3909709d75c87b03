package org.hvkit.uidpool.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.hvkit.netdev.internal.FlockFileLocks;
import org.hvkit.uidpool.ReservedUid;
import org.hvkit.uidpool.UidPoolException;
import org.hvkit.uidpool.UidRanges;

/**
 * One contender in {@link TwoJvmContentionTest}: {@code threads} threads reserve from the pool
 * until it is exhausted (after {@code go} appears), hold, report, and release when
 * {@code release} appears. Runs in the test JVM and, as {@link #main}, in a second JVM.
 */
final class UidPoolContender {

    private final FlockUidPool pool;
    private final int threads;
    final List<ReservedUid> held = Collections.synchronizedList(new ArrayList<>());

    UidPoolContender(Path lockDir, String spec, int threads) throws UidPoolException, java.io.IOException {
        this.pool = new FlockUidPool(UidRanges.parse(spec), lockDir, new FlockFileLocks(), new ProcessUids(),
                new Random());
        this.threads = threads;
        // load JNA and warm the code paths, so that both JVMs really race once "go" appears
        Path warm = lockDir.resolveSibling("warmup-" + ProcessHandle.current().pid());
        for (int i = 0; i < 200; i++) {
            new FlockFileLocks().tryLockExclusive(warm).ifPresent(l -> l.close());
        }
        try {
            Files.deleteIfExists(warm);
            new ProcessUids().anyProcessRunsAs(FlockUidPoolTest.FREE_UID);
        } catch (java.io.IOException e) {
            throw new UidPoolException("warm-up failed: " + e, e);
        }
    }

    /** Reserves until exhausted with all threads, starting when {@code go} exists. */
    void contend(Path go) throws InterruptedException {
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(new Thread(() -> {
                try {
                    while (!Files.exists(go)) {
                        Thread.onSpinWait();
                    }
                    while (true) {
                        held.add(pool.reserve());
                    }
                } catch (UidPoolException e) {
                    // exhausted
                }
            }));
        }
        workers.forEach(Thread::start);
        for (Thread w : workers) {
            w.join();
        }
    }

    void releaseAll() throws UidPoolException {
        for (ReservedUid r : held) {
            r.release();
        }
    }

    /** args: lockDir pool threads readyFile goFile doneFile releaseFile */
    public static void main(String[] args) throws Exception {
        UidPoolContender c = new UidPoolContender(Path.of(args[0]), args[1], Integer.parseInt(args[2]));
        Files.createFile(Path.of(args[3]));
        c.contend(Path.of(args[4]));
        StringBuilder got = new StringBuilder();
        for (ReservedUid r : c.held) {
            got.append(r.uid()).append('\n');
        }
        Files.writeString(Path.of(args[5] + ".tmp"), got);
        Files.move(Path.of(args[5] + ".tmp"), Path.of(args[5]));
        while (!Files.exists(Path.of(args[6]))) {
            Thread.sleep(5);
        }
        c.releaseAll();
        System.out.println("released " + c.held.size());
    }
}
