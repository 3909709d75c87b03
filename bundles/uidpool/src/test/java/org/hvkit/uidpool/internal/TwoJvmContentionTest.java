package org.hvkit.uidpool.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.hvkit.uidpool.ReservedUid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 2 JVMs × 8 threads reserve from one 20-uid pool: every uid exactly once. */
class TwoJvmContentionTest {

    @Test
    void noUidIsHandedOutTwice(@TempDir Path dir) throws Exception {
        long first = FlockUidPoolTest.FREE_UID + 1000;
        String spec = first + "-" + (first + 19);
        Path lockDir = Files.createDirectories(dir.resolve("locks"));
        Path ready = dir.resolve("ready");
        Path go = dir.resolve("go");
        Path done = dir.resolve("done");
        Path release = dir.resolve("release");

        Process other = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), UidPoolContender.class.getName(),
                lockDir.toString(), spec, "8", ready.toString(), go.toString(), done.toString(), release.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("other.log").toFile()).start();
        try {
            UidPoolContender mine = new UidPoolContender(lockDir, spec, 8);
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!Files.exists(ready)) {
                assertTrue(other.isAlive(), () -> "second JVM died: " + log(dir));
                assertTrue(System.nanoTime() < deadline, "second JVM not ready");
                Thread.sleep(5);
            }
            Files.createFile(go);
            mine.contend(go);
            while (!Files.exists(done)) {
                assertTrue(other.isAlive(), () -> "second JVM died: " + log(dir));
                Thread.sleep(5);
            }
            List<Long> all = new ArrayList<>();
            for (ReservedUid r : mine.held) {
                all.add(r.uid());
            }
            int mineCount = all.size();
            for (String line : Files.readAllLines(done)) {
                all.add(Long.parseLong(line));
            }
            Set<Long> distinct = new HashSet<>(all);
            System.out.println("uids: this JVM " + mineCount + ", other JVM " + (all.size() - mineCount));
            assertEquals(20, all.size(), "exactly the pool's 20 uids were handed out: " + all);
            assertEquals(20, distinct.size(), "no uid twice: " + all);
            Files.createFile(release);
            mine.releaseAll();
            assertTrue(other.waitFor(30, TimeUnit.SECONDS), "second JVM finished");
            assertEquals(0, other.exitValue(), log(dir));
            try (var files = Files.list(lockDir)) {
                assertEquals(0, files.count(), "every lock file removed after release");
            }
        } finally {
            other.destroyForcibly();
        }
    }

    private static String log(Path dir) {
        try {
            return Files.readString(dir.resolve("other.log"));
        } catch (Exception e) {
            return e.toString();
        }
    }
}
