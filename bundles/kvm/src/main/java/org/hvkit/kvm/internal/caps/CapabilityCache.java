package org.hvkit.kvm.internal.caps;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.hvkit.hypervisor.AtomicFiles;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.process.QemuProcesses;
import org.hvkit.kvm.internal.runtime.SafeFiles;
import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.ProcessSpawner;
import org.hvkit.netdev.SpawnRequest;
import org.hvkit.netdev.SpawnResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each QEMU binary can do, learnt once per binary path, size, modification time and ELF
 * build id (libvirt's {@code virQEMUCaps} cache, keyed the same way): {@code --help} for the
 * options that have no QMP introspection (flags such as {@code -no-acpi}, {@code -runas},
 * {@code -enable-kvm}, {@code -daemonize} are absent from {@code query-command-line-options}),
 * and, for QEMU with QMP (≥ 1.2), {@link QmpFacts} from a {@link QmpProbe}. Both are kept in
 * memory and, when a directory is given (root.dir's {@code caps/}), on disk, so a restarted or
 * updated bundle does not run the binary again. The disk copy is hostile input like every file
 * in root.dir: bounded, parsed strictly, and re-probed whenever it does not match.
 */
public final class CapabilityCache {

    private static final Logger LOG = LoggerFactory.getLogger(CapabilityCache.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** 2: QMP facts with {@code aioModes}; a file of another format is probed again. */
    private static final int FORMAT = 2;
    private static final int MAX_FILE_BYTES = 4 << 20;
    /** Liveness as the driver judges it (a zombie nobody reaped yet has quit). */
    private static final QemuProcesses PROCESSES = new QemuProcesses();

    private record Key(Path path, long size, long mtimeNanos) {
    }

    private final ProcessSpawner spawner;
    private final Path dir;
    private final Map<Key, QemuCapabilities> cache = new ConcurrentHashMap<>();

    /** A cache in memory only, from {@code --help} alone (the QMP probe needs a directory for its socket). */
    public CapabilityCache(ProcessSpawner spawner) {
        this(spawner, null);
    }

    /** A cache that also keeps what it learnt in {@code dir} (which must exist), across restarts. */
    public CapabilityCache(ProcessSpawner spawner, Path dir) {
        this.spawner = spawner;
        this.dir = dir;
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
        Key key = new Key(binary, attrs.size(), attrs.lastModifiedTime().to(TimeUnit.NANOSECONDS));
        QemuCapabilities caps = cache.get(key);
        if (caps == null) {
            caps = load(key);
            cache.put(key, caps);
        }
        return caps;
    }

    /** From the disk copy when it matches the binary, else by probing (and saving the result). */
    private QemuCapabilities load(Key key) throws HypervisorException {
        String buildId = ElfBuildId.of(key.path());
        Path file = dir == null ? null : dir.resolve(fileName(key.path()));
        if (file != null) {
            QemuCapabilities saved = read(file, key, buildId);
            if (saved != null) {
                return saved;
            }
        }
        String help = help(key.path());
        QemuCapabilities caps = parse(help, key.path());
        QmpFacts facts = null;
        if (caps.has(QemuFeature.QMP) && caps.atLeast(1, 2) && dir != null) {
            try {
                facts = new QmpProbe(spawner, PROCESSES, dir).probe(key.path(), caps);
                caps = caps.withQmp(facts);
            } catch (HypervisorException e) {
                // --help alone still renders every argv hvkit writes; try again after a restart
                LOG.warn("{}; using what --help says", e.getMessage());
                return caps;
            }
        }
        if (file != null) {
            write(file, key, buildId, help, facts);
        }
        return caps;
    }

    private QemuCapabilities read(Path file, Key key, String buildId) {
        try {
            JsonNode n = MAPPER.readTree(SafeFiles.read(file, MAX_FILE_BYTES));
            if (n == null || n.path("format").asInt() != FORMAT || !n.path("binary").asText().equals(key.path().toString())
                    || n.path("size").asLong(-1) != key.size() || n.path("mtime").asLong(-1) != key.mtimeNanos()
                    || !n.path("buildId").asText().equals(buildId) || !n.path("help").isTextual()) {
                LOG.info("Capabilities of {} changed since {} was written; probing again", key.path(), file);
                return null;
            }
            QemuCapabilities caps = parse(n.path("help").asText(), key.path());
            return n.path("qmp").isObject() ? caps.withQmp(QmpFacts.fromTree(n.path("qmp"))) : caps;
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | IllegalArgumentException | HypervisorException e) {
            LOG.warn("Ignoring the capability cache file {} ({}); probing again", file, e.getMessage());
            return null;
        }
    }

    private void write(Path file, Key key, String buildId, String help, QmpFacts facts) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("format", FORMAT).put("binary", key.path().toString()).put("size", key.size())
                .put("mtime", key.mtimeNanos()).put("buildId", buildId).put("help", help);
        if (facts != null) {
            n.set("qmp", facts.toTree());
        }
        try {
            AtomicFiles.write(file, MAPPER.writeValueAsString(n));
        } catch (IOException e) {
            // the next start probes again: slower, not wrong
            LOG.warn("Cannot save the capabilities of {} to {}: {}", key.path(), file, e.getMessage());
        }
    }

    private String help(Path binary) throws HypervisorException {
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
        return r.stdout();
    }

    private static QemuCapabilities parse(String help, Path binary) throws HypervisorException {
        try {
            return QemuCapabilities.parse(help);
        } catch (IllegalArgumentException e) {
            throw new HypervisorException(e.getMessage() + " (" + binary + ")", e);
        }
    }

    /** One file per binary path: {@code <sha-256 of the path>.json}. */
    private static String fileName(Path binary) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha.digest(binary.toString().getBytes(StandardCharsets.UTF_8)))
                    .substring(0, 32) + ".json";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
