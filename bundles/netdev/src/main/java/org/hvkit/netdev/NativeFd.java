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
