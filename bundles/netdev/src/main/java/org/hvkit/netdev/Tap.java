package org.hvkit.netdev;

import java.util.Objects;

/**
 * An open TAP device. The device exists as long as some process holds a descriptor of it: hand
 * {@link #fd()} to a child with {@link ProcessSpawner}, then close this (the JVM's copy).
 */
public final class Tap implements AutoCloseable {

    private final String name;
    private final NativeFd fd;
    private final boolean vnetHdr;

    public Tap(String name, NativeFd fd, boolean vnetHdr) {
        this.name = Objects.requireNonNull(name, "name");
        this.fd = Objects.requireNonNull(fd, "fd");
        this.vnetHdr = vnetHdr;
    }

    /** The interface name the kernel gave the device (e.g. {@code tap0}). */
    public String name() {
        return name;
    }

    /** The descriptor of {@code /dev/net/tun} bound to this device (close-on-exec). */
    public NativeFd fd() {
        return fd;
    }

    /** Whether the device was created with {@code IFF_VNET_HDR}. */
    public boolean vnetHdr() {
        return vnetHdr;
    }

    /** Closes this process's descriptor; the device goes away when no process holds one. */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "Tap[" + name + ", " + fd + (vnetHdr ? ", vnet_hdr" : "") + "]";
    }
}
