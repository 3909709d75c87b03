package org.hvkit.netdev;

import java.util.List;
import java.util.OptionalInt;

import org.osgi.annotation.versioning.ProviderType;

/** Opens TAP devices through {@code /dev/net/tun}, as Ganeti's {@code _OpenTap} does. */
@ProviderType
public interface TapDevices {

    /** {@code IFF_VNET_HDR} in the {@code TUNGETFEATURES} mask and in {@code TUNSETIFF} flags. */
    int IFF_VNET_HDR = 0x4000;
    /** {@code IFF_MULTI_QUEUE} in the {@code TUNGETFEATURES} mask and in {@code TUNSETIFF} flags (Linux 3.8). Since 1.3. */
    int IFF_MULTI_QUEUE = 0x0100;
    /** The most queues {@link #openMultiQueue} opens (Ganeti 3.0's {@code OPT_VIRTIO_NET_QUEUES_CHECK}: 1..8). Since 1.3. */
    int MAX_QUEUES = 8;
    /** Longest interface name in bytes ({@code IFNAMSIZ} - 1). */
    int MAX_NAME_BYTES = 15;

    /**
     * Opens a new non-persistent TAP device ({@code IFF_TAP | IFF_NO_PI}, plus
     * {@code IFF_VNET_HDR} when requested and the kernel supports it).
     *
     * @param name    the interface name to request, or null to let the kernel pick {@code tapN}
     * @param vnetHdr whether to request {@code IFF_VNET_HDR} (paravirtual NICs)
     * @throws IllegalArgumentException when {@code name} is not a valid interface name
     * @throws NativeException          "Failed to open /dev/net/tun: …" or "Failed to allocate a
     *                                  new TAP device: …"; no descriptor is left open
     */
    Tap open(String name, boolean vnetHdr) throws NativeException;

    /**
     * Opens one TAP device with {@code queues} queues: the device is created with
     * {@code IFF_MULTI_QUEUE} on the first descriptor and attached to by name on each further one
     * (Ganeti 3.0's {@code OpenTap} in {@code lib/hypervisor/hv_kvm/netdev.py}); every queue has
     * the same flags. One queue is exactly {@link #open}. Each returned {@link Tap} owns one
     * descriptor and names the same device; close each (the device goes with the last).
     *
     * @param queues 1 to {@link #MAX_QUEUES}
     * @return the queues' taps in queue order
     * @throws IllegalArgumentException when {@code name} is not a valid interface name or
     *                                  {@code queues} is out of range
     * @throws NativeException          as {@link #open}, or "… does not support IFF_MULTI_QUEUE"
     *                                  on a kernel without multiqueue taps; no descriptor is
     *                                  left open
     * @since 1.3
     */
    List<Tap> openMultiQueue(String name, boolean vnetHdr, int queues) throws NativeException;

    /** The kernel's {@code TUNGETFEATURES} mask, empty when the ioctl is not implemented. */
    OptionalInt features() throws NativeException;
}
