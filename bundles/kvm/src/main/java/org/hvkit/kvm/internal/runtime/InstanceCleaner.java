package org.hvkit.kvm.internal.runtime;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.stream.Stream;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.uidpool.UidPool;
import org.hvkit.uidpool.UidPoolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes an instance's runtime files (Ganeti's set: pid, sockets, runtime, uid, nic files,
 * chroot), releasing its uid first and the runtime file last, and quarantining a dirty chroot. Every path is confined to the
 * runtime directory (see {@link RuntimePaths#confined}); the one file outside it, a VNC socket
 * in {@code vnc_bind_address}, is removed only if it is a socket named after the instance.
 * The same cleaner undoes a failed start and serves {@code cleanupInstance}.
 */
public final class InstanceCleaner {

    private static final Logger LOG = LoggerFactory.getLogger(InstanceCleaner.class);
    private static final DateTimeFormatter QUARANTINE_STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd_HH_mm_ss");
    private static final int MAX_UID_FILE = 64;

    private final RuntimePaths paths;

    public InstanceCleaner(RuntimePaths paths) {
        this.paths = paths;
    }

    /**
     * Everything of an instance that is not running: pid file, sockets, serial log, runtime,
     * uid, nic files, chroot, and the VNC socket when {@code vncDir} (the saved
     * {@code vnc_bind_address}, a directory) is given.
     */
    public void removeAll(String name, UidPool pool, String vncDir) throws HypervisorException {
        // the uid first: when it cannot be given back, everything stays and the next cleanup retries
        releaseResources(name, pool);
        remove(paths.pidFile(name));
        removeSockets(name);
        remove(paths.serialLog(name));
        remove(paths.qemuLog(name));
        if (vncDir != null) {
            removeVncSocket(RuntimePaths.vncSocket(vncDir, name));
        }
        removeChroot(name);
        remove(paths.runtimeFile(name));
    }

    /** The monitor, QMP, serial and guest agent sockets (hvkit binds them, so QEMU's exit leaves them behind). */
    public void removeSockets(String name) throws HypervisorException {
        remove(paths.monitorSocket(name));
        remove(paths.qmpSocket(name));
        remove(paths.serialSocket(name));
        remove(paths.guestAgentSocket(name));
    }

    /**
     * The uid, the nic files and the pending hot-removals (what a reboot, or a start after a
     * crash, gives back first: they concern the QEMU process that is gone).
     */
    public void releaseResources(String name, UidPool pool) throws HypervisorException {
        releaseUid(name, pool);
        deleteTree(paths.confined(paths.nicDir(name)));
        remove(paths.pendingFile(name));
    }

    /** The uid in the instance's uid file, if there is a readable one. */
    public Long recordedUid(String name) {
        Path file = paths.uidFile(name);
        try {
            String text = SafeFiles.read(file, MAX_UID_FILE).strip();
            if (text.isEmpty()) {
                LOG.warn("uid file {} is empty; no uid to release", file);
                return null;
            }
            return Long.parseLong(text.lines().findFirst().orElse("").trim());
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            LOG.warn("Can't read uid file {}: {}", file, e.getMessage());
        } catch (NumberFormatException e) {
            LOG.warn("Can't parse uid file contents of {}", file);
        }
        return null;
    }

    private void releaseUid(String name, UidPool pool) throws HypervisorException {
        Path file = paths.uidFile(name);
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Long uid = recordedUid(name);
        if (uid != null && pool == null) {
            // keep the file: the next cleanup with a pool still knows which uid to give back
            throw new HypervisorException("Cannot release uid " + uid + " of instance " + name
                    + ": no uid pool service (etc/org.hvkit.uidpool.cfg); its uid file " + file + " stays");
        }
        remove(file);
        if (uid != null) {
            try {
                pool.release(uid);
                LOG.info("Released uid {} of instance {}", uid, name);
            } catch (UidPoolException e) {
                throw new HypervisorException(e.getMessage(), e);
            }
        }
    }

    private void removeChroot(String name) throws HypervisorException {
        Path dir = paths.confined(paths.chrootDir(name));
        try {
            if (Files.isSymbolicLink(dir)) {
                Files.delete(dir);
                return;
            }
            Files.deleteIfExists(dir);
        } catch (DirectoryNotEmptyException e) {
            try {
                Path target = Files.createTempDirectory(paths.confined(paths.quarantineDir().resolve(name)).getParent(),
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

    /** Removes a file (or a link, never what it points to) inside the root; directories are left alone. */
    private void remove(Path p) throws HypervisorException {
        paths.confined(p);
        try {
            if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.deleteIfExists(p);
            }
        } catch (NoSuchFileException e) {
            // gone already
        } catch (IOException e) {
            throw new HypervisorException("Failed to remove " + p + ": " + e, e);
        }
    }

    private static void removeVncSocket(Path socket) {
        try {
            BasicFileAttributes a = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isOther()) {
                Files.delete(socket);
            } else {
                LOG.warn("Leaving {} alone: it is not a socket", socket);
            }
        } catch (NoSuchFileException e) {
            // QEMU removed it, or it never existed
        } catch (IOException e) {
            LOG.warn("Cannot remove the VNC socket {}: {}", socket, e.toString());
        }
    }

    private static void deleteTree(Path dir) throws HypervisorException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        // walk does not follow links: a link inside is removed, never its target
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new HypervisorException("Failed to remove " + dir + ": " + e, e);
        }
    }
}
