package org.hvkit.kvm.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Whether a disk path names something the host uses itself, which no guest may get: QEMU opens
 * a disk as root before it drops to its pool uid (and a hot-add has the node open it), so an
 * instance definition naming {@code /dev/vda} would hand the guest the host's root disk, and one
 * naming {@code /etc/shadow} a host file. Ganeti's hypervisor layer passes any path on; Ganeti
 * guards file storage elsewhere ({@code file-storage-paths}). hvkit refuses, for a start, a
 * migration target and a hot-add alike:
 * <ul>
 *   <li>a block device that is mounted (in this mount namespace), used as swap, held by another
 *       device ({@code /sys/dev/block/M:m/holders}: LVM, device-mapper, md, bcache …) or whose
 *       partition is any of these;</li>
 *   <li>a block device of this machine's hardware — a whole disk or a partition whose sysfs
 *       device ({@code /sys/dev/block/M:m}, links followed) is not a virtual one
 *       ({@code /sys/devices/virtual/}: device-mapper and so LVM, DRBD, loop, md, NBD, zram) or
 *       an RBD ({@code /sys/devices/rbd/}) — unless the operator lists it in the node key
 *       {@code disk.host.devices}: an unmounted spare disk or a disk of the host's that nothing
 *       holds right now is still the host's, and Ganeti's storage hands guests LVs, DRBD and
 *       RBD devices;</li>
 *   <li>a regular file whose real path lies under a system directory ({@link #SYSTEM_DIRS}) or
 *       under the node's {@code root.dir} (runtime files, locks, sockets).</li>
 * </ul>
 * This is a deny-list; a regular file it lets pass must also lie under a directory of the node
 * key {@code disk.file.dirs} ({@link HostDisks#outsideFileDirs}, checked by
 * {@link StartChecks#disk}).
 * Links are followed: what counts is what would be opened. The tables read are the kernel's
 * ({@code /proc/self/mountinfo}, {@code /proc/swaps}, {@code /sys/dev/block}); the roots are
 * parameters so that a test can give its own.
 */
record HostUse(Path proc, Path sysDevBlock) {

    static final HostUse SYSTEM = new HostUse(Path.of("/proc"), Path.of("/sys/dev/block"));

    /**
     * Directories whose files a guest must not even read: device nodes, configuration and kernel
     * tables ({@code /dev}, {@code /etc}, {@code /proc}, {@code /sys}), and where a Debian host
     * keeps state — runtime state and sockets ({@code /run}), Ganeti's configuration and keys
     * ({@code /var/lib/ganeti}), crontabs and mail ({@code /var/spool}), logs ({@code /var/log}).
     * The rule for the files it gets read-only — kernel, initrd, CD-ROM and floppy images, which
     * may well lie under {@code /boot} or {@code /usr} (a host kernel, iPXE's ISO): those stay
     * allowed. Users' homes are not listed (a checkout there builds its own guest kernel): their
     * secrets — keys, credentials — are kept from other users, which {@link #privateFile} refuses.
     */
    static final List<String> PRIVATE_DIRS = List.of("/dev", "/etc", "/proc", "/sys", "/run", "/var/lib/ganeti",
            "/var/spool", "/var/log");

    /** Directories whose files are the host's own (Ganeti's forbidden file storage paths, the same idea). */
    static final List<String> SYSTEM_DIRS = List.of("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64",
            "/libx32", "/proc", "/sbin", "/sys", "/usr");

    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;

    /**
     * Why the host uses {@code path} (e.g. "is mounted at /"), or null when it does not (or when
     * the path cannot be looked at: the type check reports that).
     */
    String of(Path path, Path rootDir) {
        return of(path, rootDir, Set.of());
    }

    /**
     * {@link #of(Path, Path)}, with the hardware block devices {@code hostDisks} (the node key
     * {@code disk.host.devices}) allowed.
     */
    String of(Path path, Path rootDir, Set<Path> hostDisks) {
        Path real;
        int mode;
        long rdev;
        try {
            real = path.toRealPath();
            mode = (Integer) Files.getAttribute(real, "unix:mode");
            rdev = (Long) Files.getAttribute(real, "unix:rdev");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return null;
        }
        if ((mode & S_IFMT) == S_IFBLK) {
            String dev = major(rdev) + ":" + minor(rdev);
            String use = blockUse(dev);
            if (use == null && !listed(dev, hostDisks)) {
                use = hardware(dev);
            }
            return use == null ? null : "(" + real + ", device " + dev + ") " + use;
        }
        if (!Files.isRegularFile(real)) {
            return null;
        }
        return fileUse(real, SYSTEM_DIRS, "a host system file", rootDir);
    }

    /**
     * Why a file the guest gets to read (kernel, initrd, CD-ROM or floppy image) is the host's
     * private one — its real path under {@link #PRIVATE_DIRS} or {@code rootDir} — or null.
     */
    static String privateFile(Path path, Path rootDir) {
        Path real;
        try {
            real = path.toRealPath();
        } catch (IOException e) {
            return null; // the parameter check reports a missing file
        }
        String use = fileUse(real, PRIVATE_DIRS, "a private host file", rootDir);
        if (use != null) {
            return use;
        }
        try {
            int mode = (Integer) Files.getAttribute(real, "unix:mode");
            if ((mode & 0004) == 0) {
                // QEMU reads it as root: a file the host keeps from its own users (an SSH key,
                // Ganeti's server.pem, a credentials file) is no guest's to read
                return "is a private host file (" + real + ", mode " + String.format("%04o", mode & 07777)
                        + ": not readable by every user)";
            }
        } catch (IOException | UnsupportedOperationException e) {
            return null; // the parameter check reports what cannot be read
        }
        return null;
    }

    /** Why the file at real path {@code real} is the host's: under one of {@code dirs}, or of {@code rootDir}; or null. */
    private static String fileUse(Path real, List<String> dirs, String what, Path rootDir) {
        for (String dir : dirs) {
            if (real.startsWith(dir)) {
                return "is " + what + " (" + real + ", under " + dir + ")";
            }
        }
        Path root = null;
        if (rootDir != null) {
            try {
                root = rootDir.toRealPath();
            } catch (IOException e) {
                root = rootDir.toAbsolutePath().normalize(); // not created yet
            }
        }
        return root != null && real.startsWith(root) ? "is a file of this node's root.dir (" + real + ")" : null;
    }

    /**
     * "is a disk of this machine's hardware (…)" when block device {@code dev}'s sysfs device is
     * neither virtual nor an RBD; null otherwise, or when sysfs does not know it.
     */
    String hardware(String dev) {
        Path real;
        try {
            real = sysDevBlock.resolve(dev).toRealPath();
        } catch (IOException e) {
            return null;
        }
        String p = real.toString();
        if (p.contains("/devices/virtual/") || p.contains("/devices/rbd/")) {
            return null;
        }
        return "is a disk of this machine's hardware (" + real + "); list it in the node key disk.host.devices"
                + " to give it to a guest";
    }

    /** Whether one of {@code paths} (links followed) is block device {@code dev} (a character device is not). */
    private static boolean listed(String dev, Set<Path> paths) {
        for (Path p : paths) {
            try {
                if ((((Integer) Files.getAttribute(p, "unix:mode")) & S_IFMT) == S_IFBLK && dev.equals(devOf(p))) {
                    return true;
                }
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
                // a listed path that is gone or unreadable allows nothing
            }
        }
        return false;
    }

    /** Why the host uses block device {@code dev} ("major:minor"), its partitions included; null when it does not. */
    String blockUse(String dev) {
        String own = directUse(dev);
        if (own != null) {
            return own;
        }
        // a whole disk: its partitions (directories with a "partition" file)
        try (DirectoryStream<Path> children = Files.newDirectoryStream(sysDevBlock.resolve(dev))) {
            for (Path child : children) {
                if (Files.isRegularFile(child.resolve("partition")) && Files.isRegularFile(child.resolve("dev"))) {
                    String part = read(child.resolve("dev")).strip();
                    String use = directUse(part);
                    if (use != null) {
                        return "has partition " + child.getFileName() + " (" + part + "), which " + use;
                    }
                }
            }
        } catch (IOException e) {
            // no sysfs entry: nothing more to learn
        }
        return null;
    }

    private String directUse(String dev) {
        for (String line : lines(proc.resolve("self/mountinfo"))) {
            // id parent major:minor root mountpoint …
            String[] f = line.split(" ");
            if (f.length > 4 && f[2].equals(dev)) {
                return "is mounted at " + f[4].replace("\\040", " ");
            }
        }
        List<String> swaps = lines(proc.resolve("swaps"));
        for (String line : swaps.subList(Math.min(1, swaps.size()), swaps.size())) {
            String[] f = line.trim().split("\\s+");
            if (!f[0].isEmpty() && dev.equals(devOf(Path.of(f[0].replace("\\040", " "))))) {
                return "is swap space (" + f[0] + ")";
            }
        }
        try (DirectoryStream<Path> holders = Files.newDirectoryStream(sysDevBlock.resolve(dev).resolve("holders"))) {
            for (Path h : holders) {
                return "is held by " + h.getFileName() + " (LVM, device-mapper, md or another stacked device)";
            }
        } catch (IOException e) {
            // no holders directory
        }
        return null;
    }

    private static String devOf(Path p) {
        try {
            long rdev = (Long) Files.getAttribute(p, "unix:rdev");
            return major(rdev) + ":" + minor(rdev);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return null;
        }
    }

    /** glibc's gnu_dev_major. */
    static long major(long rdev) {
        return ((rdev >>> 8) & 0xfffL) | ((rdev >>> 32) & 0xfffff000L);
    }

    /** glibc's gnu_dev_minor. */
    static long minor(long rdev) {
        return (rdev & 0xffL) | ((rdev >>> 12) & 0xffffff00L);
    }

    private static List<String> lines(Path file) {
        try {
            return List.of(read(file).split("\n"));
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String read(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    }
}
