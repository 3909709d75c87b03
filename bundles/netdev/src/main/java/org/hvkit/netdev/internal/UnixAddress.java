package org.hvkit.netdev.internal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

import com.sun.jna.Memory;
import com.sun.jna.Native;

import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.UnixSocket;

/**
 * A {@code sockaddr_un} for a socket path of any length. {@code sun_path} holds 107 bytes, and
 * hvkit's runtime directory under a deep checkout or temp dir is often longer. A longer path
 * is reached through its directory: the parent is opened with {@code O_PATH} and the address
 * becomes {@code /proc/self/fd/<dirfd>/<file name>}, which the kernel resolves like any path
 * (bind and connect both work), so only the file name has to be short. The directory stays
 * open until {@link #close()}, i.e. for as long as the address is in use.
 */
public final class UnixAddress implements AutoCloseable {

    private static final int MAX_PATH_BYTES = UnixSocket.MAX_PATH_BYTES;
    private static final int SOCKADDR_UN = 110;

    private final Memory sockaddr;
    private final int dirFd;

    private UnixAddress(byte[] sunPath, int dirFd) {
        this.sockaddr = new Memory(SOCKADDR_UN);
        sockaddr.clear();
        sockaddr.setShort(0, (short) LibC.AF_UNIX);
        sockaddr.write(2, sunPath, 0, sunPath.length);
        this.dirFd = dirFd;
    }

    /**
     * The address of {@code path}, directly when it fits, else through its opened parent.
     *
     * @throws IllegalArgumentException when even the file name alone does not fit
     * @throws NativeException          when the parent directory cannot be opened
     */
    public static UnixAddress of(Path path) throws NativeException {
        byte[] whole = path.toString().getBytes(StandardCharsets.UTF_8);
        if (whole.length <= MAX_PATH_BYTES) {
            return new UnixAddress(whole, -1);
        }
        Path name = path.getFileName();
        if (name == null) {
            throw new IllegalArgumentException("not a socket path: " + path);
        }
        Path parent = path.getParent() == null ? Path.of(".") : path.getParent();
        // UTF-8 like the short form (JNA's String conversion would follow the JVM's locale);
        // O_CLOEXEC: another thread may spawn a child while the directory is open
        byte[] parentBytes = parent.toString().getBytes(StandardCharsets.UTF_8);
        int fd = LibC.INSTANCE.open(Arrays.copyOf(parentBytes, parentBytes.length + 1),
                LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0);
        if (fd == -1) {
            throw LibC.error("open the directory of the socket " + path, Native.getLastError());
        }
        byte[] viaDir = ("/proc/self/fd/" + fd + "/" + name).getBytes(StandardCharsets.UTF_8);
        if (viaDir.length > MAX_PATH_BYTES) {
            LibC.closeQuietly(fd);
            int room = MAX_PATH_BYTES - (viaDir.length - name.toString().getBytes(StandardCharsets.UTF_8).length);
            throw new IllegalArgumentException("unix socket path " + path + " is " + whole.length
                    + " bytes long, more than the " + MAX_PATH_BYTES + " bytes that fit in sockaddr_un, and its"
                    + " file name " + name + " is too long to be reached through its directory (at most "
                    + room + " bytes)");
        }
        return new UnixAddress(viaDir, fd);
    }

    /** The {@code struct sockaddr_un} to pass to bind or connect. */
    public Memory sockaddr() {
        return sockaddr;
    }

    /** Its length for bind or connect. */
    public int length() {
        return SOCKADDR_UN;
    }

    /** Closes the parent directory, if one was opened. */
    @Override
    public void close() {
        LibC.closeQuietly(dirFd);
    }
}
