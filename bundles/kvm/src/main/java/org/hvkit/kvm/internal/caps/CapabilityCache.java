package org.hvkit.kvm.internal.caps;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.ProcessSpawner;
import org.hvkit.netdev.SpawnRequest;
import org.hvkit.netdev.SpawnResult;

/**
 * Probes {@code <binary> --help} once per binary path, size and modification time: an upgraded
 * QEMU package is noticed at the next use, an unchanged one is never probed again.
 */
public final class CapabilityCache {

    private record Key(Path path, long size, long mtimeNanos) {
    }

    private final ProcessSpawner spawner;
    private final Map<Key, QemuCapabilities> cache = new ConcurrentHashMap<>();

    public CapabilityCache(ProcessSpawner spawner) {
        this.spawner = spawner;
    }

    public QemuCapabilities of(Path binary) throws HypervisorException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(binary, BasicFileAttributes.class);
        } catch (IOException e) {
            throw new HypervisorException("The kvm binary ('" + binary + "') does not exist.");
        }
        if (!attrs.isRegularFile() || !Files.isExecutable(binary)) {
            throw new HypervisorException("The kvm binary ('" + binary + "') is not an executable file.");
        }
        Key key = new Key(binary, attrs.size(), attrs.lastModifiedTime().toMillis());
        QemuCapabilities caps = cache.get(key);
        if (caps == null) {
            caps = probe(binary);
            cache.put(key, caps);
        }
        return caps;
    }

    private QemuCapabilities probe(Path binary) throws HypervisorException {
        SpawnResult r;
        try {
            r = spawner.run(new SpawnRequest(List.of(binary.toString(), "--help"), Map.of("LC_ALL", "C"),
                    Path.of("/"), List.of()), Duration.ofSeconds(30));
        } catch (NativeException e) {
            throw new HypervisorException("Unable to get KVM --help output from " + binary + ": " + e.getMessage(), e);
        }
        if (!r.succeeded()) {
            throw new HypervisorException("Unable to get KVM --help output from " + binary + ": " + r.failReason()
                    + " (" + r.output() + ")");
        }
        try {
            return QemuCapabilities.parse(r.stdout());
        } catch (IllegalArgumentException e) {
            throw new HypervisorException(e.getMessage() + " (" + binary + ")", e);
        }
    }
}
