package org.hvkit.kvm.internal.argv;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.hvkit.netdev.SpawnRequest;
import org.hvkit.netdev.SpawnResult;
import org.hvkit.netdev.internal.PosixSpawner;

/**
 * The real test guest (tools/guest/build.sh), built on first use into {@code target/guest}, and
 * again when the script is newer than the image.
 */
public final class GuestImage {

    private GuestImage() {
    }

    public static Path ensure() throws Exception {
        String basedir = System.getProperty("basedir", ".");
        Path repo = Path.of(basedir).toAbsolutePath().resolve("../..").normalize();
        Path dir = Path.of(System.getProperty("hvkit.guest.dir", repo.resolve("target/guest").toString()))
                .toAbsolutePath().normalize();
        Path script = repo.resolve("tools/guest/build.sh");
        // build.sh's own rule: an initramfs older than the script lacks what the script now puts in /init
        if (Files.isRegularFile(dir.resolve("vmlinuz")) && Files.isRegularFile(dir.resolve("initramfs.gz"))
                && (!Files.exists(script) || Files.getLastModifiedTime(dir.resolve("initramfs.gz"))
                        .compareTo(Files.getLastModifiedTime(script)) > 0)) {
            return dir;
        }
        SpawnResult r = new PosixSpawner().run(SpawnRequest.of(List.of("bash", script.toString(), dir.toString())),
                Duration.ofMinutes(5));
        if (!r.succeeded()) {
            throw new IllegalStateException("building the test guest failed: " + r.failReason() + ": " + r.output());
        }
        return dir;
    }
}
