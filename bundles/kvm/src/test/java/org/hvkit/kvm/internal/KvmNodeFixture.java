package org.hvkit.kvm.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.uidpool.UidPool;

/**
 * The door into the KVM driver for harnesses outside its package (the end-to-end benchmark in
 * {@code bench/}): a node opened the way {@link KvmNode} opens it, without a framework. It is
 * test code, shipped in this module's test jar, never in the bundle.
 */
public final class KvmNodeFixture {

    private KvmNodeFixture() {
    }

    /** A KVM node on {@code kvm} keeping its runtime files under {@code root}; {@code pool} may be null. */
    public static Hypervisor node(String name, Path root, Path kvm, UidPool pool, Map<String, ?> hvparamDefaults) {
        KvmSettings s = new KvmSettings(name, root, kvm, false, null, Duration.ofSeconds(30), Path.of("/usr/bin/socat"),
                Duration.ofSeconds(30), Duration.ofSeconds(120), KvmSettings.hvparamDefaults(hvparamDefaults))
                .allowingDiskFiles(KvmTestNode.DISK_DIRS);
        return KvmTestNode.node(s, pool);
    }

    /**
     * {@link #node(String, Path, Path, UidPool, Map)} publishing its instance events to
     * {@code events} (topic, properties), as EventAdmin would get them in Karaf.
     */
    public static Hypervisor node(String name, Path root, Path kvm, UidPool pool, Map<String, ?> hvparamDefaults,
                                  java.util.function.BiConsumer<String, Map<String, Object>> events) {
        KvmSettings s = new KvmSettings(name, root, kvm, false, null, Duration.ofSeconds(30), Path.of("/usr/bin/socat"),
                Duration.ofSeconds(30), Duration.ofSeconds(120), KvmSettings.hvparamDefaults(hvparamDefaults))
                .allowingDiskFiles(KvmTestNode.DISK_DIRS);
        try {
            return KvmTestNode.open(s, pool, KvmTestNode.natives(), events::accept);
        } catch (org.hvkit.hypervisor.HypervisorException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What DS does when the component goes away: its monitor connections close, the instances run on. */
    public static void release(Hypervisor hv) {
        ((KvmHypervisor) hv).close();
    }
}
