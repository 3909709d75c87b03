package org.hvkit.netdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.hvkit.netdev.internal.FlockFileLocks;
import org.hvkit.netdev.internal.PosixSpawner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileLocksTest {

    private final FileLocks locks = new FlockFileLocks();

    @Test
    void excludesOtherDescriptionsInThisProcessAndOtherProcesses(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("4000");
        Optional<LockedFile> first = locks.tryLockExclusive(file);
        assertTrue(first.isPresent());
        assertTrue(Files.exists(file), "the lock file is created");
        assertTrue(locks.tryLockExclusive(file).isEmpty(), "a second open file description is excluded");
        // flock(1) is util-linux's front end to flock(2), like Ganeti's Python fcntl.flock
        SpawnResult other = new PosixSpawner().run(SpawnRequest.of(List.of("flock", "-n", file.toString(), "true")),
                Duration.ofSeconds(10));
        assertEquals(1, other.exitCode(), "another process cannot take the lock: " + other);
        first.get().close();
        SpawnResult after = new PosixSpawner().run(SpawnRequest.of(List.of("flock", "-n", file.toString(), "true")),
                Duration.ofSeconds(10));
        assertEquals(0, after.exitCode(), "released: " + after);
        try (LockedFile again = locks.tryLockExclusive(file).orElseThrow()) {
            assertEquals(file, again.path());
        }
        assertTrue(Files.exists(file), "unlocking keeps the file (Ganeti's taken marker)");
    }

    @Test
    void unopenableFileIsAnError(@TempDir Path dir) {
        NativeException e = org.junit.jupiter.api.Assertions.assertThrows(NativeException.class,
                () -> locks.tryLockExclusive(dir.resolve("missing-dir/4000")));
        assertEquals(2, e.errno());
        assertTrue(e.getMessage().startsWith("open " + dir.resolve("missing-dir/4000")), e.getMessage());
    }
}
