package org.hvkit.netdev;

import java.util.concurrent.atomic.AtomicInteger;

import org.hvkit.netdev.internal.LibC;

/**
 * Owns one open file descriptor of this process. {@link #close()} closes it exactly once; after
 * that {@link #fd()} fails. Hand it to {@link ProcessSpawner} to let a child inherit it.
 */
public final class NativeFd implements AutoCloseable {

    private final AtomicInteger fd;

    /** Takes ownership of {@code fd}. */
    public NativeFd(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("not a file descriptor: " + fd);
        }
        this.fd = new AtomicInteger(fd);
    }

    /**
     * Opens {@code file} (following links), read-write or read-only, close-on-exec, and with
     * {@code O_DIRECT} (no host page cache) when {@code direct}: a descriptor to hand to another
     * process that may not open the file itself (a disk image for a QEMU that runs as an
     * unprivileged uid). Nothing is created or truncated. Since 1.5.
     *
     * @throws NativeException with {@code open(2)}'s errno (e.g. {@code EINVAL}: a file system
     *                         without {@code O_DIRECT})
     */
    public static NativeFd open(java.nio.file.Path file, boolean writable, boolean direct) throws NativeException {
        String path = file.toString();
        int flags = (writable ? LibC.O_RDWR : LibC.O_RDONLY) | LibC.O_CLOEXEC | (direct ? LibC.O_DIRECT : 0);
        return new NativeFd(LibC.check(LibC.INSTANCE.open(path, flags, 0), "open " + path));
    }

    /** The descriptor number; fails once closed. */
    public int fd() {
        int v = fd.get();
        if (v < 0) {
            throw new IllegalStateException("file descriptor already closed");
        }
        return v;
    }

    public boolean isOpen() {
        return fd.get() >= 0;
    }

    /** Closes the descriptor (once; later calls do nothing). */
    @Override
    public void close() {
        int v = fd.getAndSet(-1);
        if (v >= 0) {
            LibC.closeQuietly(v);
        }
    }

    @Override
    public String toString() {
        int v = fd.get();
        return v < 0 ? "fd(closed)" : "fd(" + v + ")";
    }
}
