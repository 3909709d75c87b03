package org.hvkit.kvm.internal.argv;

/**
 * Values inside QEMU option strings ({@code -drive file=…,format=raw}): QEMU splits them at
 * every {@code ,} and reads {@code ,,} as a literal comma. A value put in unescaped could add
 * options of its own — fault injection made QEMU open {@code /etc/shadow} as a guest disk
 * through a {@code dev_path} of {@code /srv/a.img,file=/etc/shadow}. libvirt escapes every
 * value it puts into an option string ({@code virQEMUBuildBufferEscapeComma}); so does hvkit,
 * through this one function.
 *
 * <p>Plain arguments that QEMU does not split ({@code -kernel}, {@code -initrd},
 * {@code -append}, {@code -pidfile}, {@code -mem-path}, {@code -runas}, {@code -chroot}) are
 * passed as they are: argv is a list, never a shell string, so nothing else parses them.
 */
public final class QemuOpts {

    private QemuOpts() {
    }

    /** {@code value} with every comma doubled. */
    public static String escape(String value) {
        return value.replace(",", ",,");
    }
}
