package org.hvkit.kvm.internal.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;

/**
 * The runtime directory layout under one root, e.g. {@code /run/hvkit/kvm-hypervisor}
 * (Ganeti's {@code _ROOT_DIR} and its sub-directories, see docs/architecture.md):
 * {@code pid/}, {@code uid/}, {@code ctrl/}, {@code conf/}, {@code nic/}, {@code chroot/},
 * {@code chroot-quarantine/}, and hvkit's {@code lock/} (one {@code flock} file per instance
 * name, serialising operations across threads and JVMs) and {@code hvkit.lock} (held by the
 * one component that owns the directory).
 *
 * <p>Every per-instance path is built from a validated name only: a name is a single file-name
 * component from a hostname-like alphabet, so {@code ../../srv/victim} can never leave the
 * root (fault injection deleted files outside root.dir through unvalidated names).
 */
public record RuntimePaths(Path root) {

    /** {@code sun_path} holds 108 bytes including the NUL. */
    public static final int MAX_SOCKET_PATH = 107;

    public RuntimePaths {
        root = root.toAbsolutePath().normalize();
    }

    public Path pidDir() { return root.resolve("pid"); }
    public Path uidDir() { return root.resolve("uid"); }
    public Path ctrlDir() { return root.resolve("ctrl"); }
    public Path confDir() { return root.resolve("conf"); }
    public Path nicDir() { return root.resolve("nic"); }
    public Path chrootDir() { return root.resolve("chroot"); }
    public Path quarantineDir() { return root.resolve("chroot-quarantine"); }
    public Path lockDir() { return root.resolve("lock"); }
    /** What hvkit learnt about each QEMU binary (capability cache, one file per binary path). */
    public Path capsDir() { return root.resolve("caps"); }
    /** Held by the component that owns this runtime directory. */
    public Path rootLock() { return root.resolve("hvkit.lock"); }

    public Path pidFile(String name) { return pidDir().resolve(checked(name)); }
    public Path uidFile(String name) { return uidDir().resolve(checked(name)); }
    public Path runtimeFile(String name) { return confDir().resolve(checked(name) + ".runtime"); }
    /** The hot-removals of the instance's QEMU waiting for its guest ({@link PendingRemovals}). */
    public Path pendingFile(String name) { return confDir().resolve(checked(name) + ".pending"); }
    public Path monitorSocket(String name) { return ctrlDir().resolve(checked(name) + ".monitor"); }
    public Path qmpSocket(String name) { return ctrlDir().resolve(checked(name) + ".qmp"); }
    public Path serialSocket(String name) { return ctrlDir().resolve(checked(name) + ".serial"); }
    public Path serialLog(String name) { return ctrlDir().resolve(checked(name) + ".serial.log"); }
    /** QEMU's own log ({@code -D}; a daemonized QEMU's stderr), shown in a failed start's error. */
    public Path qemuLog(String name) { return ctrlDir().resolve(checked(name) + ".qemu.log"); }
    /** The QEMU guest agent's socket ({@code use_guest_agent}; Ganeti's {@code <name>.qga}). */
    public Path guestAgentSocket(String name) { return ctrlDir().resolve(checked(name) + ".qga"); }
    public Path nicDir(String name) { return nicDir().resolve(checked(name)); }
    public Path chrootDir(String name) { return chrootDir().resolve(checked(name)); }
    public Path lockFile(String name) { return lockDir().resolve(checked(name)); }

    /** The VNC socket QEMU creates for {@code name} when {@code vnc_bind_address} is the directory {@code dir}. */
    public static Path vncSocket(String dir, String name) {
        return Path.of(dir).resolve(checked(name) + ".vnc");
    }

    private static String checked(String name) {
        if (!Instance.isValidName(name)) {
            // callers validate at the SPI boundary; this guards against a path built from anything else
            throw new IllegalArgumentException("not a valid instance name: '" + name + "'");
        }
        return name;
    }

    /** The HMP/QMP/serial sockets QEMU binds itself (QEMUs that cannot take descriptors), refused when too long. */
    public void checkSocketPaths(String name) throws HypervisorException {
        for (Path p : new Path[] {monitorSocket(name), qmpSocket(name), serialSocket(name)}) {
            checkSocketPath(p, "use a shorter root.dir or a QEMU that accepts socket descriptors (2.12 or later)");
        }
    }

    /** A unix socket path someone else binds (QEMU), refused when it does not fit sockaddr_un. */
    public static void checkSocketPath(Path p, String advice) throws HypervisorException {
        int len = p.toString().getBytes(StandardCharsets.UTF_8).length;
        if (len > MAX_SOCKET_PATH) {
            throw new HypervisorException("The unix socket path " + p + " is " + len + " bytes long; at most "
                    + MAX_SOCKET_PATH + " fit (" + advice + ")");
        }
    }

    /**
     * Refuses to act on {@code p} unless its parent directory, with every symbolic link resolved,
     * is the same directory inside the root it was built as: someone who can replace
     * {@code conf/} by a link to {@code /etc} must not make a cleanup delete host files.
     */
    public Path confined(Path p) throws HypervisorException {
        Path parent = p.getParent();
        try {
            Path realRoot = root.toRealPath();
            Path expected = realRoot.resolve(root.relativize(parent));
            if (!Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS) || !parent.toRealPath().equals(expected)) {
                throw new HypervisorException("Refusing to touch " + p + ": " + parent + " is not a directory inside "
                        + root + " (a symbolic link?)");
            }
        } catch (IOException e) {
            throw new HypervisorException("Refusing to touch " + p + ": cannot resolve " + parent + ": " + e, e);
        }
        return p;
    }
}
