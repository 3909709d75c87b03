package org.hvkit.kvm.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.netdev.internal.FlockFileLocks;
import org.hvkit.netdev.internal.PosixSpawner;
import org.hvkit.netdev.internal.RtNetlink;
import org.hvkit.netdev.internal.TunTapDevices;
import org.hvkit.uidpool.UidPool;

/**
 * The benchmark harness's door into the KVM driver: the same {@link KvmHypervisor} DS creates
 * in Karaf, built without a framework (the configuration the DS constructor would map).
 */
public final class BenchNodes {

    private BenchNodes() {
    }

    /** A KVM node on {@code kvm} keeping its runtime files under {@code root}; {@code pool} may be null. */
    public static Hypervisor node(String name, Path root, Path kvm, UidPool pool, Map<String, ?> hvparamDefaults) {
        KvmSettings s = new KvmSettings(name, root, kvm, false, null, Duration.ofSeconds(30), Path.of("/usr/bin/socat"),
                Duration.ofSeconds(30), Duration.ofSeconds(120), KvmSettings.hvparamDefaults(hvparamDefaults));
        try {
            return new KvmHypervisor(s, new NativeServices(new PosixSpawner(), new TunTapDevices(), new RtNetlink(),
                    new FlockFileLocks()), () -> pool);
        } catch (HypervisorException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What DS does when the component goes away: its monitor connections close, the instances run on. */
    public static void release(Hypervisor hv) {
        ((KvmHypervisor) hv).close();
    }

    /** QEMU's own timestamp of the last migration's {@code completed} event on {@code hv}, or null. */
    public static java.time.Instant lastMigrationCompleted(Hypervisor hv) {
        return ((KvmHypervisor) hv).lastMigrationCompleted();
    }
}
