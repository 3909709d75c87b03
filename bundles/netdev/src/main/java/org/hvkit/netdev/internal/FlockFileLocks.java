package org.hvkit.netdev.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

import com.sun.jna.Native;

import org.hvkit.netdev.FileLocks;
import org.hvkit.netdev.LockedFile;
import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.NativeFd;
import org.osgi.service.component.annotations.Component;

/** {@link FileLocks} with {@code flock(2)}, like Ganeti's {@code utils.filelock}. */
@Component(service = FileLocks.class)
public final class FlockFileLocks implements FileLocks {

    @Override
    public Optional<LockedFile> tryLockExclusive(Path file) throws NativeException {
        String path = file.toString();
        int fd = LibC.check(LibC.INSTANCE.open(path, LibC.O_RDWR | LibC.O_CREAT | LibC.O_CLOEXEC, 0644),
                "open " + path);
        NativeFd owned = new NativeFd(fd);
        int rc;
        do {
            rc = LibC.INSTANCE.flock(fd, LibC.LOCK_EX | LibC.LOCK_NB);
        } while (rc == -1 && Native.getLastError() == LibC.EINTR);
        if (rc == -1) {
            int errno = Native.getLastError();
            owned.close();
            if (errno == LibC.EAGAIN) {
                return Optional.empty();
            }
            throw LibC.error("flock " + path, errno);
        }
        // A releaser may have unlinked the file between our open and our flock: then we hold a
        // lock nobody else can see, and a new file at the same path could be locked by someone
        // else. Only a lock on the inode that is still at the path counts.
        if (!samePathStillThere(file, fd)) {
            owned.close();
            return Optional.empty();
        }
        return Optional.of(new FlockedFile(file, owned));
    }

    private static boolean samePathStillThere(Path file, int fd) {
        try {
            Object atPath = Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS);
            Object open = Files.getAttribute(Path.of("/proc/self/fd/" + fd), "unix:ino");
            return atPath.equals(open);
        } catch (IOException e) {
            return false;
        }
    }

    private static final class FlockedFile implements LockedFile {
        private final Path path;
        private final NativeFd fd;

        FlockedFile(Path path, NativeFd fd) {
            this.path = path;
            this.fd = fd;
        }

        @Override
        public Path path() {
            return path;
        }

        @Override
        public void close() {
            // closing the only descriptor of the open file description releases the flock
            fd.close();
        }

        @Override
        public String toString() {
            return "LockedFile[" + path + ", " + fd + "]";
        }
    }
}
