package org.hvkit.netdev;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;

import org.hvkit.netdev.internal.LibC;
import org.hvkit.netdev.internal.UnixAddress;

/**
 * A connected {@code AF_UNIX} stream socket that can carry descriptors ({@code SCM_RIGHTS}),
 * e.g. to hand a tap to a running QEMU with QMP {@code getfd}. The JDK's unix channels cannot
 * send descriptors, hence this class. It also makes the listening socket a child inherits
 * ({@link #listen}); the JDK's cannot be bound at a path longer than {@code sun_path}.
 */
public final class UnixSocket implements AutoCloseable {

    /**
     * {@code sun_path} holds 108 bytes including the terminating NUL; since 1.2 a longer path
     * works when its file name alone fits.
     */
    public static final int MAX_PATH_BYTES = 107;
    private static final int MSGHDR = 56;
    private static final int CMSG_HEADER = 16;
    private static final int MAX_FDS = 253; // SCM_MAX_FD

    private final NativeFd fd;

    private UnixSocket(NativeFd fd) {
        this.fd = fd;
    }

    /**
     * Connects to the socket at {@code path}, blocking while the listener's backlog is full.
     * Since 1.2 a path longer than {@value #MAX_PATH_BYTES} bytes works too, as long as its
     * file name alone fits (it is reached through its directory).
     *
     * @throws IllegalArgumentException when the path is too long even so
     */
    public static UnixSocket connect(Path path) throws NativeException {
        return open(path, null);
    }

    /**
     * Connects to the socket at {@code path}, waiting at most {@code timeout} while the
     * listener's backlog is full (a stuck listener that accepts nothing would block
     * {@link #connect(Path)} forever). The socket returned is blocking like any other.
     *
     * @throws NativeException          with errno EAGAIN (11) when the backlog stayed full for
     *                                  {@code timeout}; at once with the errno of any other failure
     *                                  (ENOENT, ECONNREFUSED …)
     * @throws IllegalArgumentException when the path is too long even for the way through its directory
     * @since 1.2
     */
    public static UnixSocket connect(Path path, Duration timeout) throws NativeException {
        return open(path, Objects.requireNonNull(timeout, "timeout"));
    }

    /** {@code timeout} null: a blocking socket, else a non-blocking one made blocking once connected. */
    private static UnixSocket open(Path path, Duration timeout) throws NativeException {
        try (UnixAddress addr = UnixAddress.of(path)) {
            NativeFd owned = socket(timeout == null ? 0 : LibC.SOCK_NONBLOCK);
            try {
                connect(owned, addr, path, timeout);
                return new UnixSocket(owned);
            } catch (NativeException | RuntimeException e) {
                owned.close();
                throw e;
            }
        }
    }

    private static void connect(NativeFd s, UnixAddress addr, Path path, Duration timeout) throws NativeException {
        long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
        long pauseMillis = 1;
        while (LibC.INSTANCE.connect(s.fd(), addr.sockaddr(), addr.length()) == -1) {
            int errno = Native.getLastError();
            if (errno == LibC.EINTR) {
                continue;
            }
            // AF_UNIX never answers EINPROGRESS: a full backlog is EAGAIN, and there is nothing
            // to poll for until the listener accepts, so look again after a growing pause
            if (errno != LibC.EAGAIN || timeout == null) {
                throw LibC.error("connect to " + path, errno);
            }
            long leftMillis = (deadline - System.nanoTime()) / 1_000_000;
            if (leftMillis <= 0) {
                throw new NativeException("connect to " + path + ": its listener's backlog stayed full for "
                        + timeout.toMillis() + " ms (it accepts no connections)", LibC.EAGAIN);
            }
            pause(Math.min(pauseMillis, leftMillis), path);
            pauseMillis = Math.min(50, pauseMillis * 2);
        }
        if (timeout != null) {
            int flags = LibC.check(LibC.INSTANCE.fcntl(s.fd(), LibC.F_GETFL, 0), "fcntl F_GETFL");
            LibC.check(LibC.INSTANCE.fcntl(s.fd(), LibC.F_SETFL, flags & ~LibC.O_NONBLOCK), "fcntl F_SETFL");
        }
    }

    private static void pause(long millis, Path path) throws NativeException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NativeException("connect to " + path + " interrupted", LibC.EINTR);
        }
    }

    /**
     * A listening socket bound at {@code path}, of any length as long as its file name fits
     * (see {@link #connect(Path)}), e.g. QMP's socket handed to QEMU as
     * {@code -chardev socket,fd=N,server=on}: it listens before QEMU starts, so a client can
     * connect at once. Nothing is removed: an existing file at {@code path} makes this fail, and
     * whether a leftover file is stale is the caller's decision.
     *
     * <p>The descriptor is close-on-exec in this JVM, so no unrelated child inherits it;
     * {@link ProcessSpawner} hands it over with {@code dup2}, which clears that flag on the
     * child's number.
     *
     * @param backlog how many connections the kernel queues before connect blocks (≥ 0)
     * @throws NativeException          with errno EADDRINUSE (98) when {@code path} exists
     * @throws IllegalArgumentException when the path is too long even for the way through its directory
     * @since 1.2
     */
    public static NativeFd listen(Path path, int backlog) throws NativeException {
        if (backlog < 0) {
            throw new IllegalArgumentException("backlog must be >= 0, got " + backlog);
        }
        try (UnixAddress addr = UnixAddress.of(path)) {
            NativeFd owned = socket(0);
            try {
                if (LibC.INSTANCE.bind(owned.fd(), addr.sockaddr(), addr.length()) == -1) {
                    int errno = Native.getLastError();
                    throw LibC.error("bind " + path + (errno == LibC.EADDRINUSE ? " (the file exists)" : ""), errno);
                }
                LibC.check(LibC.INSTANCE.listen(owned.fd(), backlog), "listen on " + path);
                return owned;
            } catch (NativeException | RuntimeException e) {
                owned.close();
                throw e;
            }
        }
    }

    private static NativeFd socket(int flags) throws NativeException {
        return new NativeFd(LibC.check(LibC.INSTANCE.socket(LibC.AF_UNIX,
                LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC | flags, 0), "socket"));
    }

    /** Two connected sockets ({@code socketpair}). */
    public static UnixSocket[] pair() throws NativeException {
        int[] sv = new int[2];
        LibC.check(LibC.INSTANCE.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, sv), "socketpair");
        return new UnixSocket[] {new UnixSocket(new NativeFd(sv[0])), new UnixSocket(new NativeFd(sv[1]))};
    }

    /** The socket's own descriptor. */
    public NativeFd fd() {
        return fd;
    }

    /** Writes all of {@code data}. */
    public void write(byte[] data) throws NativeException {
        send(data, List.of());
    }

    /**
     * Sends {@code data} (at least one byte) with {@code fds} attached to its first byte; the
     * caller keeps its own copies of the descriptors.
     */
    public void send(byte[] data, List<NativeFd> fds) throws NativeException {
        if (data.length == 0) {
            throw new IllegalArgumentException("descriptors travel with at least one byte of data");
        }
        if (fds.size() > MAX_FDS) {
            throw new IllegalArgumentException("at most " + MAX_FDS + " descriptors per message, got " + fds.size());
        }
        int off = 0;
        while (off < data.length) {
            int len = data.length - off;
            Memory payload = new Memory(len);
            payload.write(0, data, off, len);
            Memory iov = new Memory(16);
            iov.setPointer(0, payload);
            iov.setLong(8, len);
            Memory msg = new Memory(MSGHDR);
            msg.clear();
            msg.setPointer(16, iov);
            msg.setLong(24, 1);
            if (off == 0 && !fds.isEmpty()) {
                int dataLen = 4 * fds.size();
                int space = CMSG_HEADER + ((dataLen + 7) & ~7);
                Memory control = new Memory(space);
                control.clear();
                control.setLong(0, CMSG_HEADER + dataLen);
                control.setInt(8, LibC.SOL_SOCKET);
                control.setInt(12, LibC.SCM_RIGHTS);
                for (int i = 0; i < fds.size(); i++) {
                    control.setInt(CMSG_HEADER + 4L * i, fds.get(i).fd());
                }
                msg.setPointer(32, control);
                msg.setLong(40, space);
            }
            long n = LibC.INSTANCE.sendmsg(fd.fd(), msg, 0).longValue();
            if (n == -1) {
                if (Native.getLastError() == LibC.EINTR) {
                    continue;
                }
                throw LibC.error("sendmsg", Native.getLastError());
            }
            off += (int) n;
        }
    }

    /** What {@link #receive} got: bytes and the descriptors that came with them (now owned by the caller). */
    public record Received(byte[] data, List<NativeFd> fds) {
    }

    /**
     * Receives up to {@code maxBytes} bytes and up to {@code maxFds} descriptors, waiting at most
     * {@code timeout}. An empty result means the peer closed the connection.
     *
     * @throws NativeException with errno EAGAIN (11) when nothing arrived in time
     */
    public Received receive(int maxBytes, int maxFds, Duration timeout) throws NativeException {
        waitReadable(timeout);
        Memory payload = new Memory(maxBytes);
        Memory iov = new Memory(16);
        iov.setPointer(0, payload);
        iov.setLong(8, maxBytes);
        int space = CMSG_HEADER + ((4 * Math.max(1, maxFds) + 7) & ~7);
        Memory control = new Memory(space);
        control.clear();
        Memory msg = new Memory(MSGHDR);
        msg.clear();
        msg.setPointer(16, iov);
        msg.setLong(24, 1);
        msg.setPointer(32, control);
        msg.setLong(40, space);
        long n;
        do {
            n = LibC.INSTANCE.recvmsg(fd.fd(), msg, LibC.MSG_CMSG_CLOEXEC).longValue();
        } while (n == -1 && Native.getLastError() == LibC.EINTR);
        if (n == -1) {
            throw LibC.error("recvmsg", Native.getLastError());
        }
        List<NativeFd> fds = new ArrayList<>();
        long controlLen = msg.getLong(40);
        long pos = 0;
        while (pos + CMSG_HEADER <= controlLen) {
            long len = control.getLong(pos);
            if (len < CMSG_HEADER) {
                break;
            }
            if (control.getInt(pos + 8) == LibC.SOL_SOCKET && control.getInt(pos + 12) == LibC.SCM_RIGHTS) {
                for (long i = 0; i < (len - CMSG_HEADER) / 4; i++) {
                    fds.add(new NativeFd(control.getInt(pos + CMSG_HEADER + 4 * i)));
                }
            }
            pos += (len + 7) & ~7;
        }
        return new Received(payload.getByteArray(0, (int) n), fds);
    }

    /** Reads what is available (at most {@code buf.length} bytes), waiting at most {@code timeout}; -1 at end of stream. */
    public int read(byte[] buf, Duration timeout) throws NativeException {
        waitReadable(timeout);
        Memory m = new Memory(buf.length);
        long n;
        do {
            n = LibC.INSTANCE.read(fd.fd(), m, new NativeLong(buf.length)).longValue();
        } while (n == -1 && Native.getLastError() == LibC.EINTR);
        if (n == -1) {
            throw LibC.error("read", Native.getLastError());
        }
        if (n == 0) {
            return -1;
        }
        m.read(0, buf, 0, (int) n);
        return (int) n;
    }

    private void waitReadable(Duration timeout) throws NativeException {
        if (!awaitReadable(timeout)) {
            throw new NativeException("nothing received within " + timeout, LibC.EAGAIN);
        }
    }

    /**
     * Whether something can be read (data, or the end of the stream) within {@code timeout};
     * {@link Duration#ZERO} only looks. Unlike {@link #read}, an empty socket is no exception.
     *
     * @since 1.1
     */
    public boolean awaitReadable(Duration timeout) throws NativeException {
        Memory pollfd = new Memory(8);
        pollfd.setInt(0, fd.fd());
        pollfd.setShort(4, (short) LibC.POLLIN);
        pollfd.setShort(6, (short) 0);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int wait = (int) Math.max(0, Math.min(Integer.MAX_VALUE, (deadline - System.nanoTime()) / 1_000_000));
            int r = LibC.INSTANCE.poll(pollfd, new NativeLong(1), wait);
            if (r > 0) {
                return true;
            }
            if (r == 0) {
                return false;
            }
            if (Native.getLastError() != LibC.EINTR) {
                throw LibC.error("poll", Native.getLastError());
            }
        }
    }

    /**
     * Waits at most {@code timeout} until one of {@code sockets} can be read (data, the end of
     * the stream, or a descriptor that is no longer open) and says which: one {@code poll(2)}
     * over all of them, so one thread can watch many connections and learn at once when a
     * peer closes one. An empty result means the time ran out.
     *
     * @since 1.4
     */
    public static java.util.BitSet awaitAnyReadable(List<UnixSocket> sockets, Duration timeout)
            throws NativeException {
        java.util.BitSet ready = new java.util.BitSet(sockets.size());
        if (sockets.isEmpty()) {
            return ready;
        }
        Memory pollfds = new Memory(8L * sockets.size());
        for (int i = 0; i < sockets.size(); i++) {
            pollfds.setInt(8L * i, sockets.get(i).fd.fd());
            pollfds.setShort(8L * i + 4, (short) LibC.POLLIN);
            pollfds.setShort(8L * i + 6, (short) 0);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int wait = (int) Math.max(0, Math.min(Integer.MAX_VALUE, (deadline - System.nanoTime()) / 1_000_000));
            int r = LibC.INSTANCE.poll(pollfds, new NativeLong(sockets.size()), wait);
            if (r >= 0) {
                for (int i = 0; i < sockets.size() && r > 0; i++) {
                    if (pollfds.getShort(8L * i + 6) != 0) {
                        ready.set(i);
                    }
                }
                return ready;
            }
            if (Native.getLastError() != LibC.EINTR) {
                throw LibC.error("poll", Native.getLastError());
            }
        }
    }

    @Override
    public void close() {
        fd.close();
    }
}
