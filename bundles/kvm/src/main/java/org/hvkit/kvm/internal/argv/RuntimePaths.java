package org.hvkit.kvm.internal.argv;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The runtime directory layout (SPEC a.1) under one root, e.g. {@code /run/hvkit/kvm-hypervisor}:
 * {@code pid/}, {@code uid/}, {@code ctrl/}, {@code conf/}, {@code nic/}, {@code chroot/},
 * {@code chroot-quarantine/}.
 */
public record RuntimePaths(Path root) {

    /** {@code sun_path} holds 108 bytes including the NUL. */
    public static final int MAX_SOCKET_PATH = 107;

    public Path pidDir() { return root.resolve("pid"); }
    public Path uidDir() { return root.resolve("uid"); }
    public Path ctrlDir() { return root.resolve("ctrl"); }
    public Path confDir() { return root.resolve("conf"); }
    public Path nicDir() { return root.resolve("nic"); }
    public Path chrootDir() { return root.resolve("chroot"); }
    public Path quarantineDir() { return root.resolve("chroot-quarantine"); }

    public Path pidFile(String name) { return pidDir().resolve(name); }
    public Path uidFile(String name) { return uidDir().resolve(name); }
    public Path runtimeFile(String name) { return confDir().resolve(name + ".runtime"); }
    public Path monitorSocket(String name) { return ctrlDir().resolve(name + ".monitor"); }
    public Path qmpSocket(String name) { return ctrlDir().resolve(name + ".qmp"); }
    public Path serialSocket(String name) { return ctrlDir().resolve(name + ".serial"); }
    public Path serialLog(String name) { return ctrlDir().resolve(name + ".serial.log"); }
    public Path nicDir(String name) { return nicDir().resolve(name); }
    public Path chrootDir(String name) { return chrootDir().resolve(name); }

    /** The unix sockets QEMU creates for {@code name}, refused when a path is too long for sockaddr_un. */
    public void checkSocketPaths(String name) {
        for (Path p : new Path[] {monitorSocket(name), qmpSocket(name), serialSocket(name)}) {
            int len = p.toString().getBytes(StandardCharsets.UTF_8).length;
            if (len > MAX_SOCKET_PATH) {
                throw new IllegalArgumentException("The unix socket path " + p + " is " + len + " bytes long; at most "
                        + MAX_SOCKET_PATH + " fit (use a shorter instance name or root.dir)");
            }
        }
    }
}
