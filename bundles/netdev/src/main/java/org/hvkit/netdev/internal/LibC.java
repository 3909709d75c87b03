package org.hvkit.netdev.internal;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

import org.hvkit.netdev.NativeException;

/**
 * The project's one JNA binding of libc (x86_64 / aarch64 Linux, glibc ≥ 2.34). Calls that
 * report failure through errno return -1; {@link #check} turns that into a
 * {@link NativeException} carrying the errno. The {@code posix_spawn*} functions return the
 * error number instead.
 */
public interface LibC extends Library {

    LibC INSTANCE = Native.load("c", LibC.class);

    // open(2) flags and friends (asm-generic values, as on x86_64 and aarch64)
    int O_RDONLY = 0;
    int O_WRONLY = 1;
    int O_RDWR = 2;
    int O_CREAT = 0x40;
    int O_NONBLOCK = 0x800;
    int O_CLOEXEC = 0x80000;
    int O_PATH = 0x200000;
    /** The one open flag used here whose value differs between x86_64 and aarch64. */
    int O_DIRECTORY = "aarch64".equals(Platform.ARCH) ? 0x4000 : 0x10000;
    /** {@code O_DIRECT}: the two architectures swap its value with {@link #O_DIRECTORY}'s. */
    int O_DIRECT = "aarch64".equals(Platform.ARCH) ? 0x10000 : 0x4000;

    int LOCK_EX = 2;
    int LOCK_NB = 4;
    int LOCK_UN = 8;

    int AF_UNIX = 1;
    int AF_INET = 2;
    int AF_INET6 = 10;
    int AF_NETLINK = 16;
    int SOCK_STREAM = 1;
    int SOCK_DGRAM = 2;
    int SOCK_RAW = 3;
    int SOCK_NONBLOCK = 0x800;
    int SOCK_CLOEXEC = 0x80000;
    int SOL_SOCKET = 1;
    int SCM_RIGHTS = 1;
    int MSG_CMSG_CLOEXEC = 0x40000000;

    int POLLIN = 0x1;
    int WNOHANG = 1;
    int F_GETFD = 1;
    int F_GETFL = 3;
    int F_SETFL = 4;

    int EINTR = 4;
    int EAGAIN = 11;
    int ECHILD = 10;
    int ENOENT = 2;
    int EADDRINUSE = 98;
    int ESRCH = 3;
    int EINVAL = 22;

    int open(String path, int flags, int mode);

    /** {@code path}: NUL-terminated bytes, for paths whose encoding must not depend on the JVM's locale. */
    int open(byte[] path, int flags, int mode);

    int posix_spawn_file_actions_addclose(Pointer actions, int fd);

    int close(int fd);

    int ioctl(int fd, NativeLong request, Pointer arg);

    int flock(int fd, int operation);

    int fcntl(int fd, int cmd, int arg);

    int socket(int domain, int type, int protocol);

    int socketpair(int domain, int type, int protocol, int[] sv);

    int bind(int fd, Pointer addr, int addrlen);

    int connect(int fd, Pointer addr, int addrlen);

    int listen(int fd, int backlog);

    NativeLong sendto(int fd, Pointer buf, NativeLong len, int flags, Pointer addr, int addrlen);

    NativeLong recv(int fd, Pointer buf, NativeLong len, int flags);

    NativeLong read(int fd, Pointer buf, NativeLong count);

    NativeLong write(int fd, Pointer buf, NativeLong count);

    NativeLong sendmsg(int fd, Pointer msghdr, int flags);

    NativeLong recvmsg(int fd, Pointer msghdr, int flags);

    int pipe2(int[] fds, int flags);

    int poll(Pointer fds, NativeLong nfds, int timeoutMillis);

    int waitpid(int pid, IntByReference status, int options);

    int kill(int pid, int signal);

    String strerror(int errnum);

    /** {@code sched_setaffinity(2)}: {@code pid} is a thread id (0: the calling thread). */
    int sched_setaffinity(int pid, NativeLong cpusetsize, Pointer mask);

    /** {@code sched_getaffinity(2)}: {@code pid} is a thread id (0: the calling thread). */
    int sched_getaffinity(int pid, NativeLong cpusetsize, Pointer mask);

    /** glibc's {@code get_nprocs_conf(3)}: the CPUs the kernel configured, online or not. */
    int get_nprocs_conf();

    int sigemptyset(Pointer set);

    int sigfillset(Pointer set);

    int posix_spawn_file_actions_init(Pointer actions);

    int posix_spawn_file_actions_destroy(Pointer actions);

    int posix_spawn_file_actions_adddup2(Pointer actions, int fd, int newfd);

    int posix_spawn_file_actions_addopen(Pointer actions, int fd, String path, int oflag, int mode);

    int posix_spawn_file_actions_addclosefrom_np(Pointer actions, int from);

    int posix_spawn_file_actions_addchdir_np(Pointer actions, String path);

    int posix_spawnattr_init(Pointer attr);

    int posix_spawnattr_destroy(Pointer attr);

    int posix_spawnattr_setflags(Pointer attr, short flags);

    int posix_spawnattr_setsigmask(Pointer attr, Pointer sigmask);

    int posix_spawnattr_setsigdefault(Pointer attr, Pointer sigdefault);

    int posix_spawn(IntByReference pid, String path, Pointer fileActions, Pointer attr, String[] argv, String[] envp);

    /** Throws when {@code result} is -1, naming {@code what} and the errno. */
    static int check(int result, String what) throws NativeException {
        if (result == -1) {
            throw error(what, Native.getLastError());
        }
        return result;
    }

    /** Throws when {@code result} is -1, naming {@code what} and the errno. */
    static long check(NativeLong result, String what) throws NativeException {
        long v = result.longValue();
        if (v == -1) {
            throw error(what, Native.getLastError());
        }
        return v;
    }

    /** A {@link NativeException} "what: strerror(errno)". */
    static NativeException error(String what, int errno) {
        return new NativeException(what + ": " + INSTANCE.strerror(errno) + " (errno " + errno + ")", errno);
    }

    /** Closes {@code fd}, ignoring errors (used on cleanup paths). */
    static void closeQuietly(int fd) {
        if (fd >= 0) {
            INSTANCE.close(fd);
        }
    }
}
