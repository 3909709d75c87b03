package org.hvkit.kvm.internal.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.stream.Stream;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.argv.RuntimePaths;
import org.hvkit.uidpool.UidPool;
import org.hvkit.uidpool.UidPoolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Removes an instance's runtime files in Ganeti's order (SPEC a.2), releasing its uid and quarantining a dirty chroot. */
public final class InstanceCleaner {

    private static final Logger LOG = LoggerFactory.getLogger(InstanceCleaner.class);
    private static final DateTimeFormatter QUARANTINE_STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd_HH_mm_ss");

    private final RuntimePaths paths;

    public InstanceCleaner(RuntimePaths paths) {
        this.paths = paths;
    }

    /** Everything of a.2: pid, sockets, runtime, uid, nic files, chroot. */
    public void removeAll(String name, UidPool pool) throws HypervisorException {
        remove(paths.pidFile(name));
        remove(paths.monitorSocket(name));
        remove(paths.qmpSocket(name));
        remove(paths.serialSocket(name));
        remove(paths.serialLog(name));
        remove(paths.runtimeFile(name));
        releaseResources(name, pool);
        removeChroot(name);
    }

    /** The uid and the nic files (what a reboot gives back before starting again). */
    public void releaseResources(String name, UidPool pool) throws HypervisorException {
        releaseUid(name, pool);
        deleteTree(paths.nicDir(name));
    }

    private void releaseUid(String name, UidPool pool) throws HypervisorException {
        Path file = paths.uidFile(name);
        if (!Files.exists(file)) {
            return;
        }
        Long uid = null;
        try {
            String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
            if (text.isEmpty()) {
                LOG.warn("uid file {} is empty; no uid to release", file);
            } else {
                uid = Long.parseLong(text.lines().findFirst().orElse("").trim());
            }
        } catch (IOException e) {
            LOG.warn("Can't read uid file {}: {}", file, e.toString());
        } catch (NumberFormatException e) {
            LOG.warn("Can't parse uid file contents of {}", file);
        }
        remove(file);
        if (uid != null) {
            if (pool == null) {
                LOG.warn("No uid pool service: the lock of uid {} (instance {}) stays until a pool releases it", uid, name);
                return;
            }
            try {
                pool.release(uid);
            } catch (UidPoolException e) {
                throw new HypervisorException(e.getMessage(), e);
            }
        }
    }

    private void removeChroot(String name) throws HypervisorException {
        Path dir = paths.chrootDir(name);
        try {
            Files.deleteIfExists(dir);
        } catch (DirectoryNotEmptyException e) {
            try {
                Path target = Files.createTempDirectory(paths.quarantineDir(),
                        name + "-" + LocalDateTime.now().format(QUARANTINE_STAMP) + "-");
                LOG.warn("The chroot directory of instance {} can not be removed as it is not empty. Moving it to the"
                        + " quarantine instead. Please investigate the contents ({}) and clean up manually", name, target);
                Files.move(dir, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException q) {
                throw new HypervisorException("Failed to quarantine the chroot directory " + dir + ": " + q, q);
            }
        } catch (IOException e) {
            throw new HypervisorException("Failed to remove the chroot directory " + dir + ": " + e, e);
        }
    }

    private static void remove(Path p) throws HypervisorException {
        try {
            if (!Files.isDirectory(p)) {
                Files.deleteIfExists(p);
            }
        } catch (NoSuchFileException e) {
            // gone already
        } catch (IOException e) {
            throw new HypervisorException("Failed to remove " + p + ": " + e, e);
        }
    }

    private static void deleteTree(Path dir) throws HypervisorException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new HypervisorException("Failed to remove " + dir + ": " + e, e);
        }
    }
}
