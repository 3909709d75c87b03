/**
 * hvkit's native bridge: TAP devices opened exactly as Ganeti does (TUNGETFEATURES probe,
 * TUNSETIFF with IFF_TAP|IFF_NO_PI[|IFF_VNET_HDR][|IFF_MULTI_QUEUE]), CPU affinity of threads
 * ({@code sched_setaffinity(2)}, since 1.3), rtnetlink operations on links, bridges,
 * routes and rules, spawning processes that inherit chosen file descriptors at chosen numbers,
 * passing descriptors over unix sockets (SCM_RIGHTS), unix sockets at paths of any length,
 * and {@code flock(2)} locks. Every file descriptor is owned by a
 * {@link org.hvkit.netdev.NativeFd}; nothing here runs a shell or an external tool.
 *
 * <p>1.3 (additions): {@link org.hvkit.netdev.Netlink#linkStatistics},
 * {@link org.hvkit.netdev.Netlink#allLinkStatistics} and {@link org.hvkit.netdev.LinkStatistics}.
 *
 * <p>1.4 (addition): {@link org.hvkit.netdev.UnixSocket#awaitAnyReadable}, one {@code poll(2)} over
 * several sockets (the KVM driver's instance watcher).
 *
 * <p>1.5 (addition): {@link org.hvkit.netdev.NativeFd#open}, a file opened for another process (the
 * KVM driver's disk hotplug hands it to QEMU).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.5.0")
package org.hvkit.netdev;
