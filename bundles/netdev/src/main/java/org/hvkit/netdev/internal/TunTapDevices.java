package org.hvkit.netdev.internal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.OptionalInt;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;

import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.NativeFd;
import org.hvkit.netdev.Tap;
import org.hvkit.netdev.TapDevices;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link TapDevices} on {@code /dev/net/tun}: Ganeti's {@code OpenTap} and {@code _ProbeTapVnetHdr}
 * ({@code lib/hypervisor/hv_kvm/netdev.py}; 2011: {@code _OpenTap} in {@code hv_kvm.py}).
 */
@Component(service = TapDevices.class)
public final class TunTapDevices implements TapDevices {

    // <linux/if_tun.h>; the same on every architecture QEMU runs on
    static final long TUNSETIFF = 0x400454caL;
    static final long TUNGETFEATURES = 0x800454cfL;
    static final short IFF_TAP = 0x0002;
    static final short IFF_NO_PI = 0x1000;
    /** The kernel's {@code struct ifreq} is 40 bytes: a 16-byte name and a 24-byte union. */
    private static final int IFREQ_SIZE = 40;

    private static final Logger LOG = LoggerFactory.getLogger(TunTapDevices.class);

    private final Path tunDevice;

    public TunTapDevices() {
        this(Path.of("/dev/net/tun"));
    }

    /** For tests: another clone device path. */
    public TunTapDevices(Path tunDevice) {
        this.tunDevice = tunDevice;
    }

    @Override
    public Tap open(String name, boolean vnetHdr) throws NativeException {
        byte[] nameBytes = validName(name);
        int fd = openTun();
        try {
            short flags = (short) (IFF_TAP | IFF_NO_PI);
            boolean hdr = vnetHdr && probeVnetHdr(fd);
            if (hdr) {
                flags |= (short) IFF_VNET_HDR;
            }
            Memory ifr = new Memory(IFREQ_SIZE);
            ifr.clear();
            ifr.write(0, nameBytes, 0, nameBytes.length);
            ifr.setShort(16, flags);
            if (LibC.INSTANCE.ioctl(fd, new NativeLong(TUNSETIFF), ifr) == -1) {
                throw LibC.error("Failed to allocate a new TAP device", Native.getLastError());
            }
            byte[] actual = ifr.getByteArray(0, 16);
            int len = 0;
            while (len < actual.length && actual[len] != 0) {
                len++;
            }
            return new Tap(new String(actual, 0, len, StandardCharsets.US_ASCII), new NativeFd(fd), hdr);
        } catch (NativeException | RuntimeException e) {
            LibC.closeQuietly(fd);
            throw e;
        }
    }

    @Override
    public OptionalInt features() throws NativeException {
        int fd = openTun();
        try {
            return tunGetFeatures(fd);
        } finally {
            LibC.closeQuietly(fd);
        }
    }

    private int openTun() throws NativeException {
        int fd = LibC.INSTANCE.open(tunDevice.toString(), LibC.O_RDWR | LibC.O_CLOEXEC, 0);
        if (fd == -1) {
            throw LibC.error("Failed to open " + tunDevice, Native.getLastError());
        }
        return fd;
    }

    private static OptionalInt tunGetFeatures(int fd) {
        Memory mask = new Memory(4);
        mask.setInt(0, 0);
        if (LibC.INSTANCE.ioctl(fd, new NativeLong(TUNGETFEATURES), mask) == -1) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(mask.getInt(0));
    }

    /**
     * Ganeti's {@code _ProbeTapVnetHdr}: TUNGETFEATURES must work on the fresh descriptor and
     * report IFF_VNET_HDR (both ioctls arrived in Linux 2.6.27, so that is proof enough).
     */
    static boolean probeVnetHdr(int fd) {
        OptionalInt features = tunGetFeatures(fd);
        if (features.isEmpty()) {
            LOG.warn("TUNGETFEATURES ioctl() not implemented");
            return false;
        }
        if ((features.getAsInt() & IFF_VNET_HDR) == 0) {
            LOG.warn("Host does not support IFF_VNET_HDR, not enabling");
            return false;
        }
        return true;
    }

    /** The NUL-free name bytes (empty for "let the kernel choose"), or a clear error. */
    static byte[] validName(String name) {
        if (name == null || name.isEmpty()) {
            return new byte[0];
        }
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("Invalid interface name '" + name + "': " + bytes.length
                    + " bytes, but interface names have at most " + MAX_NAME_BYTES + " bytes (IFNAMSIZ)");
        }
        if (name.equals(".") || name.equals("..") || name.chars().anyMatch(c -> c == '/' || c == ':'
                || Character.isWhitespace(c) || c == 0)) {
            throw new IllegalArgumentException("Invalid interface name '" + name + "': '/', ':', whitespace, '.' and '..'"
                    + " are not allowed in interface names");
        }
        return bytes;
    }
}
