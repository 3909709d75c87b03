package org.hvkit.netdev.internal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
    /** Fail with EBUSY where the device exists already: a multiqueue tap's first queue never joins another's device. */
    static final int IFF_TUN_EXCL = 0x8000;
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
            boolean hdr = vnetHdr && probeVnetHdr(fd);
            return attach(fd, nameBytes, hdr ? IFF_VNET_HDR : 0);
        } catch (NativeException | RuntimeException e) {
            LibC.closeQuietly(fd);
            throw e;
        }
    }

    @Override
    public List<Tap> openMultiQueue(String name, boolean vnetHdr, int queues) throws NativeException {
        if (queues < 1 || queues > MAX_QUEUES) {
            throw new IllegalArgumentException("Invalid number of queues " + queues + ": a tap has 1 to " + MAX_QUEUES
                    + " queues");
        }
        if (queues == 1) {
            return List.of(open(name, vnetHdr));
        }
        byte[] nameBytes = validName(name);
        List<Tap> opened = new ArrayList<>();
        try {
            int extra = IFF_MULTI_QUEUE;
            for (int q = 0; q < queues; q++) {
                int fd = openTun();
                try {
                    if (q == 0) {
                        requireMultiQueue(fd);
                        extra |= vnetHdr && probeVnetHdr(fd) ? IFF_VNET_HDR : 0;
                    }
                    Tap t = attach(fd, nameBytes, q == 0 ? extra | IFF_TUN_EXCL : extra);
                    opened.add(t);
                    // the first queue created the device: the others attach to it by its name
                    nameBytes = t.name().getBytes(StandardCharsets.US_ASCII);
                } catch (NativeException | RuntimeException e) {
                    LibC.closeQuietly(fd);
                    throw e;
                }
            }
            return List.copyOf(opened);
        } catch (NativeException | RuntimeException e) {
            opened.forEach(Tap::close);
            throw e;
        }
    }

    /** {@code TUNSETIFF} with {@code IFF_TAP | IFF_NO_PI | extra} on {@code fd}; the caller closes fd on failure. */
    private static Tap attach(int fd, byte[] nameBytes, int extra) throws NativeException {
        short flags = (short) (IFF_TAP | IFF_NO_PI | extra);
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
        return new Tap(new String(actual, 0, len, StandardCharsets.US_ASCII), new NativeFd(fd),
                (extra & IFF_VNET_HDR) != 0);
    }

    /**
     * Ganeti's {@code _ProbeTapMqVirtioNet}, but strict: where Ganeti falls back to a single
     * queue (and QEMU then fails on the second descriptor), this names the missing feature.
     */
    private static void requireMultiQueue(int fd) throws NativeException {
        OptionalInt features = tunGetFeatures(fd);
        if (features.isEmpty() || (features.getAsInt() & IFF_MULTI_QUEUE) == 0) {
            throw new NativeException("Failed to open a multiqueue TAP device: this kernel does not support"
                    + " IFF_MULTI_QUEUE (Linux 3.8 and later do)", 0);
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
