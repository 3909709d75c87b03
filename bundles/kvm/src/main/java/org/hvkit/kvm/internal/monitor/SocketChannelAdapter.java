package org.hvkit.kvm.internal.monitor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;

import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.UnixSocket;

/**
 * A netdev {@link UnixSocket} (which reaches socket paths of any length) as a blocking
 * {@link ByteChannel}, for a console attached from another bundle. Reads wait in short slices
 * so that a close from another thread (a detach) ends them; the descriptor itself is closed
 * only when no read is in progress, so its number cannot be reused under a reader.
 */
public final class SocketChannelAdapter implements ByteChannel {

    private static final Duration SLICE = Duration.ofMillis(200);

    private final UnixSocket socket;
    private final byte[] buf = new byte[4096];
    private boolean closed;
    private boolean released;
    private int readers;

    public SocketChannelAdapter(UnixSocket socket) {
        this.socket = socket;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        enter();
        try {
            while (true) {
                synchronized (this) {
                    if (closed) {
                        throw new ClosedChannelException();
                    }
                }
                try {
                    if (socket.awaitReadable(SLICE)) {
                        // never more than dst takes: what is read and not handed over would be lost
                        byte[] chunk = dst.remaining() >= buf.length ? buf : new byte[dst.remaining()];
                        int n = socket.read(chunk, Duration.ZERO);
                        if (n > 0) {
                            dst.put(chunk, 0, n);
                        }
                        return n;
                    }
                } catch (NativeException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }
        } finally {
            leave();
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        enter();
        try {
            byte[] b = new byte[src.remaining()];
            src.get(b);
            if (b.length > 0) {
                socket.write(b);
            }
            return b.length;
        } catch (NativeException e) {
            throw new IOException(e.getMessage(), e);
        } finally {
            leave();
        }
    }

    private synchronized void enter() throws ClosedChannelException {
        if (closed) {
            throw new ClosedChannelException();
        }
        readers++;
    }

    private synchronized void leave() {
        readers--;
        release();
    }

    private void release() {
        if (closed && readers == 0 && !released) {
            released = true;
            socket.close();
        }
    }

    @Override
    public synchronized boolean isOpen() {
        return !closed;
    }

    @Override
    public synchronized void close() {
        closed = true;
        release();
    }
}
