package org.hvkit.kvm.internal;

import org.hvkit.netdev.CpuAffinity;
import org.hvkit.netdev.FileLocks;
import org.hvkit.netdev.Netlink;
import org.hvkit.netdev.ProcessSpawner;
import org.hvkit.netdev.TapDevices;

/** The native bridge's services a KVM node uses (netdev's DS services in Karaf, plain objects in tests). */
record NativeServices(ProcessSpawner spawner, TapDevices taps, Netlink netlink, FileLocks locks,
                      CpuAffinity affinity) {
}
