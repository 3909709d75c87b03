package org.hvkit.netdev;

import java.util.OptionalInt;

import org.osgi.annotation.versioning.ProviderType;

/** Opens TAP devices through {@code /dev/net/tun}, as Ganeti's {@code _OpenTap} does. */
@ProviderType
public interface TapDevices {

    /** {@code IFF_VNET_HDR} in the {@code TUNGETFEATURES} mask and in {@code TUNSETIFF} flags. */
    int IFF_VNET_HDR = 0x4000;
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

    /** The kernel's {@code TUNGETFEATURES} mask, empty when the ioctl is not implemented. */
    OptionalInt features() throws NativeException;
}
