package org.hvkit.kvm.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.NodeInfo;
import org.hvkit.hypervisor.ParameterCheck;
import org.hvkit.hypervisor.ParameterException;
import org.hvkit.hypervisor.ParameterSpec;
import org.hvkit.kvm.internal.argv.SpiceNode;
import org.hvkit.kvm.internal.migration.MigrationTuning;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.stats.CollectorTimings;

/**
 * The validated configuration of one KVM node; every error names the key. {@code otherKvmPaths}
 * are the QEMU binaries besides {@code kvmPath} an instance may name in {@code kvm_path}
 * ({@code kvm.allowed.paths}); {@code spice} holds the SPICE certificate files
 * ({@code spice.certificate}, {@code spice.ca.certificate}); {@code hostDisks} the block devices
 * of this machine's hardware an instance may get as a disk ({@code disk.host.devices}) and the
 * directories its regular-file disks may lie under ({@code disk.file.dirs}, see {@link HostDisks}
 * and {@link HostUse}); {@code kvmExtraFromInstances} whether an instance definition may set its
 * own {@code kvm_extra} ({@code kvm_extra.from.instances}; the node's {@code hvparam.kvm_extra}
 * is always allowed).
 */
record KvmSettings(String node, Path rootDir, Path kvmPath, boolean scriptNicSetup, Path ifupScript, Duration ifupTimeout,
                   Path socatPath, Duration stopTimeout, Duration migrationTimeout,
                   Map<String, Object> hvparamDefaults, CollectorTimings statsTimings, MigrationTuning migrationTuning,
                   Set<Path> otherKvmPaths, SpiceNode spice, HostDisks hostDisks,
                   boolean kvmExtraFromInstances) {

    /** A node with QEMU's own migration tuning that runs only {@code kvmPath}, without SPICE certificates. */
    KvmSettings(String node, Path rootDir, Path kvmPath, boolean scriptNicSetup, Path ifupScript, Duration ifupTimeout,
                Path socatPath, Duration stopTimeout, Duration migrationTimeout, Map<String, Object> hvparamDefaults,
                CollectorTimings statsTimings) {
        this(node, rootDir, kvmPath, scriptNicSetup, ifupScript, ifupTimeout, socatPath, stopTimeout, migrationTimeout,
                hvparamDefaults, statsTimings, MigrationTuning.DEFAULTS);
    }

    /**
     * A node with this migration tuning that runs only {@code kvmPath}, without SPICE certificates,
     * with {@link HostDisks#DEFAULTS} and no {@code kvm_extra} from instances.
     */
    KvmSettings(String node, Path rootDir, Path kvmPath, boolean scriptNicSetup, Path ifupScript, Duration ifupTimeout,
                Path socatPath, Duration stopTimeout, Duration migrationTimeout, Map<String, Object> hvparamDefaults,
                CollectorTimings statsTimings, MigrationTuning migrationTuning) {
        this(node, rootDir, kvmPath, scriptNicSetup, ifupScript, ifupTimeout, socatPath, stopTimeout, migrationTimeout,
                hvparamDefaults, statsTimings, migrationTuning, Set.of(), SpiceNode.SYSTEM, HostDisks.DEFAULTS, false);
    }

    KvmSettings {
        otherKvmPaths = Set.copyOf(otherKvmPaths);
        java.util.Objects.requireNonNull(hostDisks, "hostDisks");
    }

    /** A node with the statistics collector's default timings that runs only {@code kvmPath}. */
    KvmSettings(String node, Path rootDir, Path kvmPath, boolean scriptNicSetup, Path ifupScript, Duration ifupTimeout,
                Path socatPath, Duration stopTimeout, Duration migrationTimeout, Map<String, Object> hvparamDefaults) {
        this(node, rootDir, kvmPath, scriptNicSetup, ifupScript, ifupTimeout, socatPath, stopTimeout, migrationTimeout,
                hvparamDefaults, CollectorTimings.DEFAULTS);
    }

    /** These settings with {@code others} allowed as an instance's {@code kvm_path} besides {@code kvmPath}. */
    KvmSettings allowingKvmPaths(Set<Path> others) {
        return new KvmSettings(node, rootDir, kvmPath, scriptNicSetup, ifupScript, ifupTimeout, socatPath, stopTimeout,
                migrationTimeout, hvparamDefaults, statsTimings, migrationTuning, others, spice, hostDisks,
                kvmExtraFromInstances);
    }

    /** These settings with {@code devices} (hardware block devices) allowed as instances' disks. */
    KvmSettings allowingHostDisks(Set<Path> devices) {
        return new KvmSettings(node, rootDir, kvmPath, scriptNicSetup, ifupScript, ifupTimeout, socatPath, stopTimeout,
                migrationTimeout, hvparamDefaults, statsTimings, migrationTuning, otherKvmPaths, spice,
                hostDisks.withDevices(devices), kvmExtraFromInstances);
    }

    /** These settings with regular-file disks allowed under {@code dirs} (instead of the present ones). */
    KvmSettings allowingDiskFiles(Set<Path> dirs) {
        return new KvmSettings(node, rootDir, kvmPath, scriptNicSetup, ifupScript, ifupTimeout, socatPath, stopTimeout,
                migrationTimeout, hvparamDefaults, statsTimings, migrationTuning, otherKvmPaths, spice,
                hostDisks.withFileDirs(dirs), kvmExtraFromInstances);
    }

    /** These settings with an instance's own {@code kvm_extra} allowed or not. */
    KvmSettings allowingKvmExtraFromInstances(boolean allowed) {
        return new KvmSettings(node, rootDir, kvmPath, scriptNicSetup, ifupScript, ifupTimeout, socatPath, stopTimeout,
                migrationTimeout, hvparamDefaults, statsTimings, migrationTuning, otherKvmPaths, spice, hostDisks,
                allowed);
    }

    /** These settings with the {@code hvparam.*} defaults {@code defaults}, everything else kept. */
    KvmSettings withHvparamDefaults(Map<String, Object> defaults) {
        return new KvmSettings(node, rootDir, kvmPath, scriptNicSetup, ifupScript, ifupTimeout, socatPath, stopTimeout,
                migrationTimeout, defaults, statsTimings, migrationTuning, otherKvmPaths, spice, hostDisks,
                kvmExtraFromInstances);
    }

    /** These settings with SPICE certificate files (Ganeti's spice.pem, key and certificate, and spice-ca.pem). */
    KvmSettings withSpiceCertificates(Path certificate, Path caCertificate) {
        return new KvmSettings(node, rootDir, kvmPath, scriptNicSetup, ifupScript, ifupTimeout, socatPath, stopTimeout,
                migrationTimeout, hvparamDefaults, statsTimings, migrationTuning, otherKvmPaths,
                new SpiceNode(certificate, caCertificate, spice.interfaces()), hostDisks, kvmExtraFromInstances);
    }

    /** Configuration keys {@code hvparam.<name>} set node-wide defaults (Ganeti's cluster-level hvparams). */
    static final String HVPARAM_PREFIX = "hvparam.";
    /** What {@code -incoming tcp:<address>:<port>} can take without quoting. */
    private static final java.util.regex.Pattern ADDRESS = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9.-]{0,252}");

    static KvmSettings from(KvmConfiguration c, Map<String, ?> properties) {
        String node = c.hypervisor_node() != null && !c.hypervisor_node().isBlank() ? c.hypervisor_node().trim()
                : NodeInfo.hostname();
        Path root = absolute("root.dir", c.root_dir());
        Path kvm = c.kvm_path() == null || c.kvm_path().isBlank() ? defaultKvm() : absolute("kvm.path", c.kvm_path());
        String mode = c.nic_setup() == null ? "native" : c.nic_setup().trim();
        if (!mode.equals("native") && !mode.equals("script")) {
            throw bad("nic.setup", "must be native or script, got '" + mode + "'");
        }
        Path script = c.ifup_script() == null || c.ifup_script().isBlank() ? null
                : absolute("ifup.script", c.ifup_script());
        if (c.stop_timeout_seconds() < 1) {
            throw bad("stop.timeout.seconds", "must be at least 1, got " + c.stop_timeout_seconds());
        }
        if (c.migration_timeout_seconds() < 1) {
            throw bad("migration.timeout.seconds", "must be at least 1, got " + c.migration_timeout_seconds());
        }
        if (c.ifup_timeout_seconds() < 1) {
            throw bad("ifup.timeout.seconds", "must be at least 1, got " + c.ifup_timeout_seconds());
        }
        if (!Instance.isValidName(node)) {
            throw bad("hypervisor.node", "must be a host name (letters, digits, '.', '_', '-'), got '" + node + "'");
        }
        String address = c.hypervisor_address();
        if (address != null && !address.isBlank() && !ADDRESS.matcher(address.trim()).matches()) {
            throw bad("hypervisor.address", "must be an IPv4 address or a host name, got '" + address + "'");
        }
        return new KvmSettings(node, root, kvm, mode.equals("script"), script,
                Duration.ofSeconds(c.ifup_timeout_seconds()), absolute("socat.path", c.socat_path()),
                Duration.ofSeconds(c.stop_timeout_seconds()), Duration.ofSeconds(c.migration_timeout_seconds()),
                hvparamDefaults(properties), CollectorTimings.from(properties, KvmNode.PID),
                MigrationTuning.from(properties, KvmNode.PID), allowedPaths(c.kvm_allowed_paths(), kvm), spice(c),
                new HostDisks(hostDisks(c.disk_host_devices()), fileDirs(c.disk_file_dirs())),
                c.kvm__extra_from_instances());
    }

    /** {@code spice.certificate} and {@code spice.ca.certificate}: both or neither, absolute paths. */
    private static SpiceNode spice(KvmConfiguration c) {
        boolean cert = c.spice_certificate() != null && !c.spice_certificate().isBlank();
        boolean ca = c.spice_ca_certificate() != null && !c.spice_ca_certificate().isBlank();
        if (cert != ca) {
            throw bad(cert ? "spice.ca.certificate" : "spice.certificate", "must be set together with "
                    + (cert ? "spice.certificate" : "spice.ca.certificate"));
        }
        return !cert ? SpiceNode.SYSTEM : new SpiceNode(absolute("spice.certificate", c.spice_certificate().trim()),
                absolute("spice.ca.certificate", c.spice_ca_certificate().trim()), SpiceNode.SYSTEM.interfaces());
    }

    /** {@code disk.host.devices}: absolute normalized paths separated by commas or whitespace, at most 256. */
    static Set<Path> hostDisks(String value) {
        return paths("disk.host.devices", value, 256, "devices");
    }

    /**
     * {@code disk.file.dirs}: absolute normalized paths separated by commas or whitespace, at most
     * 64; null (the key unset) is {@link HostDisks#GANETI_FILE_DIRS}, a blank value none.
     */
    static Set<Path> fileDirs(String value) {
        if (value == null) {
            return HostDisks.GANETI_FILE_DIRS;
        }
        return paths("disk.file.dirs", value, 64, "directories");
    }

    /**
     * {@code kvm.allowed.paths}: absolute normalized paths separated by commas or whitespace
     * (the node's own {@code kvm.path} may be listed too; it is always allowed).
     */
    static Set<Path> allowedPaths(String value, Path kvm) {
        Set<Path> out = paths("kvm.allowed.paths", value, 64, "binaries");
        out.remove(kvm);
        return out;
    }

    /** Node key {@code key}: absolute normalized paths separated by commas or whitespace, at most {@code max}. */
    private static Set<Path> paths(String key, String value, int max, String what) {
        Set<Path> out = new LinkedHashSet<>();
        if (value != null) {
            for (String part : value.trim().split("[,\\s]+")) {
                if (!part.isEmpty()) {
                    out.add(absolute(key, part));
                }
            }
        }
        if (out.size() > max) {
            throw bad(key, "lists " + out.size() + " " + what + "; at most " + max);
        }
        return out;
    }

    /**
     * Ganeti's defaults overlaid with the {@code hvparam.<name>} keys of the configuration,
     * coerced to each parameter's type and syntax-checked as a whole; errors name the key.
     */
    static Map<String, Object> hvparamDefaults(Map<String, ?> properties) {
        Map<String, Object> d = new LinkedHashMap<>(KvmParameters.DEFAULTS);
        for (Map.Entry<String, ?> e : new TreeMap<>(properties).entrySet()) {
            if (!e.getKey().startsWith(HVPARAM_PREFIX)) {
                continue;
            }
            String name = e.getKey().substring(HVPARAM_PREFIX.length());
            ParameterSpec spec = KvmParameters.PARAMETERS.get(name);
            if (spec == null) {
                throw bad(e.getKey(), "names no KVM parameter (known: "
                        + String.join(", ", new TreeSet<>(KvmParameters.PARAMETERS.keySet())) + ")");
            }
            try {
                Object v = spec.type().coerce(name, e.getValue());
                d.put(name, v instanceof Integer ? Long.valueOf((Integer) v) : v);   // ints are longs, as in the defaults
            } catch (ParameterException x) {
                throw bad(e.getKey(), "is invalid: " + x.getMessage());
            }
        }
        try {
            KvmParameters.checkSyntax(d);
        } catch (ParameterException x) {
            throw new IllegalArgumentException(KvmNode.PID + ": " + HVPARAM_PREFIX + x.parameter() + " is invalid: "
                    + x.getMessage(), x);
        }
        return Collections.unmodifiableMap(d);
    }

    private static Path absolute(String key, String value) {
        if (value == null || !ParameterCheck.isAbsoluteNormalizedPath(value) || value.chars().anyMatch(ch -> ch < 0x20)) {
            throw bad(key, "must be an absolute normalized path, got '" + value + "'");
        }
        return Path.of(value);
    }

    private static IllegalArgumentException bad(String key, String why) {
        return new IllegalArgumentException(KvmNode.PID + ": " + key + " " + why);
    }

    /** Ganeti's KVM_PATH default /usr/bin/kvm, else qemu-system-x86_64 from PATH. */
    static Path defaultKvm() {
        Path kvm = Path.of("/usr/bin/kvm");
        if (Files.isExecutable(kvm)) {
            return kvm;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "qemu-system-x86_64");
            if (Files.isExecutable(p)) {
                return p.toAbsolutePath();
            }
        }
        return Path.of("/usr/bin/qemu-system-x86_64");
    }
}
