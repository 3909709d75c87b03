package org.hvkit.kvm.internal;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.hvkit.hypervisor.CommandLinePreview;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.InstanceConsole;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.MigrationInfo;
import org.hvkit.hypervisor.MigrationStatus;
import org.hvkit.hypervisor.ParameterException;
import org.hvkit.hypervisor.ParameterSpec;
import org.hvkit.hypervisor.SerialConsole;
import org.hvkit.kvm.internal.argv.KvmArgvBuilder;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.monitor.SocketChannelAdapter;
import org.hvkit.kvm.internal.params.BinaryChecks;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.params.SecurityModel;
import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.UnixSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ganeti's KVM hypervisor for one node, as the {@link Hypervisor} service {@link KvmNode}
 * registers: a thin facade that checks names and parameters at the SPI boundary and hands
 * the work to the lifecycle core ({@link KvmInstances}) and the migrator. Everything it knows
 * lives in the runtime directory, so a new instance of it (bundle update, restart) adopts the
 * instances an earlier one started.
 */
public final class KvmHypervisor implements Hypervisor, CommandLinePreview, SerialConsole,
        org.hvkit.hypervisor.InstanceStatistics, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KvmHypervisor.class);

    private final KvmSettings settings;
    private final KvmInstances core;
    private final KvmMigrator migrator;
    private final KvmBalloon balloon;
    private final KvmHotplug hotplug;
    private final KvmDiskHotplug diskHotplug;
    private final org.hvkit.kvm.internal.stats.InstanceStatsCollector stats;

    /**
     * The facade over an opened node. {@link KvmNode} (the composition root) opens the core
     * with the DS-bound uid pool; tests and the benchmark open it with theirs. The facade owns
     * the core from here on and closes it in {@link #close}.
     */
    KvmHypervisor(KvmSettings settings, KvmInstances core) {
        this.settings = settings;
        this.core = core;
        this.migrator = new KvmMigrator(core, settings);
        this.balloon = new KvmBalloon(core);
        this.hotplug = new KvmHotplug(core, settings);
        this.diskHotplug = new KvmDiskHotplug(core, hotplug);
        hotplug.resume();
        this.stats = new org.hvkit.kvm.internal.stats.InstanceStatsCollector(settings.node(), core.paths(),
                core.store()::knownNames, core::alive, core.monitors(), core.netlink(), settings.statsTimings());
        LOG.info("KVM hypervisor for node {}: {} in {}, NIC setup {}", settings.node(), settings.kvmPath(),
                settings.rootDir(), settings.scriptNicSetup() ? "script" : "native");
        settings.hvparamDefaults().forEach((k, v) -> {
            if (!java.util.Objects.equals(v, KvmParameters.DEFAULTS.get(k))) {
                LOG.info("KVM hypervisor for node {}: node default {} = {}", settings.node(), k, v);
            }
        });
    }

    /** Refuses a name that is not a valid instance name, before anything is touched (the SPI's name contract). */
    private static String checkName(String name) throws HypervisorException {
        return Instance.requireValidName(name);
    }

    @Override public String type() { return "kvm"; }
    @Override public String node() { return settings.node(); }
    @Override public boolean canMigrate() { return true; }
    @Override public Map<String, ParameterSpec> parameters() { return KvmParameters.PARAMETERS; }
    @Override public Map<String, Object> defaults() { return settings.hvparamDefaults(); }

    @Override
    public List<String> listInstances() {
        return core.list();
    }

    @Override
    public List<String> knownInstances() {
        return core.store().knownNames();
    }

    @Override
    public InstanceInfo instanceInfo(String name) throws HypervisorException {
        return core.info(checkName(name)).orElse(null);
    }

    @Override
    public List<InstanceInfo> allInstancesInfo() {
        return core.infos();
    }

    /**
     * The saved definition with its saved parameters. An unreadable runtime file does not make a
     * running instance unmanageable: the definition is then the name alone (so that a stop — ACPI
     * by default — and a cleanup still work) and the damage is logged with the file name.
     */
    @Override
    public Instance runningInstance(String name) throws HypervisorException {
        checkName(name);
        if (core.alive(name).isEmpty()) {
            return null;
        }
        Instance bare = Instance.builder(name).primaryNode(settings.node()).hypervisor("kvm").build();
        try {
            return core.store().load(name)
                    .map(s -> s.instance().orElse(bare.toBuilder().nics(s.runtime().nics()).build())
                            .withHvparams(s.runtime().hvparams()))
                    .orElse(bare);
        } catch (HypervisorException e) {
            LOG.warn("Instance {} runs, but its runtime file is damaged ({}); it can be stopped and cleaned up",
                    name, e.getMessage());
            return bare;
        }
    }

    private KvmParameters.Node nodeFacts() {
        return new KvmParameters.Node(core.accounts()::userExists, Path.of("/dev/vhost-net"),
                KvmHypervisor::interfaceExists);
    }

    private static boolean interfaceExists(String name) {
        try {
            return NetworkInterface.getByName(name) != null;
        } catch (SocketException e) {
            return false;
        }
    }

    /** Fills, syntax-checks and node-validates the instance's parameters (the SPI owns the contract). */
    private Map<String, Object> checked(Instance instance, String what, String fail) throws HypervisorException {
        // a node that is going away refuses first, as its core does (its helper threads are gone)
        core.refuseWhenClosing(what + " " + instance.name());
        Map<String, Object> hv = core.filled(instance);
        checkParameterSyntax(hv);
        core.diskChecks().filesAnswer(hv, fail);
        validateParameters(hv);
        return hv;
    }

    @Override
    public List<String> previewCommand(Instance instance) throws HypervisorException {
        return preview(instance).argv();
    }

    @Override
    public CommandLine preview(Instance instance) throws HypervisorException {
        checkName(instance.name());
        Map<String, Object> hv = core.filled(instance);
        checkParameterSyntax(hv);
        StartChecks.kvmExtra(instance.hvparams(), settings.hvparamDefaults(), settings.kvmExtraFromInstances(),
                "Failed to start instance " + instance.name() + ": ");
        QemuCapabilities caps = core.capabilities().of(core.launcher().builder().binary(hv));
        KvmArgvBuilder.Generated g = core.launcher().builder().generate(instance, hv, caps);
        String poolUser = SecurityModel.of(hv) == SecurityModel.POOL ? "<pool-user>" : null;
        List<String> warnings = new ArrayList<>(KvmParameters.assess(hv));
        warnings.addAll(g.warnings());
        return new CommandLine(core.launcher().preview(g.runtime(), hv, caps, poolUser), warnings);
    }

    @Override
    public void startInstance(Instance instance, boolean startPaused) throws HypervisorException {
        checkName(instance.name());
        Map<String, Object> hv = checked(instance, "start", "Failed to start instance " + instance.name() + ": ");
        StartChecks.kvmExtra(instance.hvparams(), settings.hvparamDefaults(), settings.kvmExtraFromInstances(),
                "Failed to start instance " + instance.name() + ": ");
        Instance started = instance.toBuilder().hypervisor("kvm").hvparams(hv)
                .primaryNode(instance.primaryNode().isEmpty() ? settings.node() : instance.primaryNode()).build();
        core.start(started, hv, startPaused);
    }

    @Override
    public void stopInstance(Instance instance, boolean force, Duration timeout) throws HypervisorException {
        String name = checkName(instance.name());
        if (force) {
            core.kill(name);
            return;
        }
        boolean acpi = KvmParameters.bool(core.filled(instance), KvmParameters.ACPI);
        try (KvmInstances.Operation op = core.beginWindDown(name, "stop")) {
            core.stopLocked(name, acpi, timeout);
        }
    }

    @Override
    public Duration defaultStopTimeout() {
        return settings.stopTimeout();
    }

    @Override
    public void stopInstanceByName(String name) throws HypervisorException {
        core.kill(checkName(name));
    }

    @Override
    public void cleanupInstance(String name) throws HypervisorException {
        core.cleanup(checkName(name));
    }

    @Override
    public void rebootInstance(Instance instance) throws HypervisorException {
        // the current parameters decide the security model and password files, as Ganeti's
        // _ExecuteKVMRuntime takes them from the configuration: checked as for a start
        checkName(instance.name());
        core.reboot(instance.name(), checked(instance, "reboot", "Failed to reboot instance " + instance.name() + ": "));
    }

    /** Ganeti's {@code HotplugSupported} ({@link KvmHotplug}). */
    @Override
    public void checkHotplugSupport(Instance instance) throws HypervisorException {
        hotplug.checkSupport(checkName(instance.name()));
    }

    /** Ganeti's {@code HotAddDevice} for a NIC over QMP ({@link KvmHotplug}). */
    @Override
    public void hotAddNic(Instance instance, Nic nic) throws HypervisorException {
        hotplug.addNic(checkName(instance.name()), java.util.Objects.requireNonNull(nic, "nic"));
    }

    /** Ganeti's {@code HotModDevice} for a NIC: its host side moves ({@link KvmHotplug}). */
    @Override
    public void hotModifyNic(Instance instance, Nic nic) throws HypervisorException {
        hotplug.modifyNic(checkName(instance.name()), java.util.Objects.requireNonNull(nic, "nic"));
    }

    /** Ganeti's {@code HotDelDevice} for a NIC over QMP ({@link KvmHotplug}). */
    @Override
    public void hotRemoveNic(Instance instance, String mac) throws HypervisorException {
        String m = mac == null ? "" : mac.strip().toLowerCase(java.util.Locale.ROOT);
        if (!Nic.isValidMac(m)) {
            throw new HypervisorException("Cannot hot-remove a NIC from instance " + instance.name() + ": "
                    + "'" + (m.length() > 40 ? m.substring(0, 40) + "…" : m).replaceAll("\\p{Cntrl}", "?")
                    + "' is not a MAC address (six colon-separated hexadecimal bytes)");
        }
        hotplug.removeNic(checkName(instance.name()), m);
    }

    /** Ganeti's {@code HotAddDevice} for a disk over QMP ({@link KvmDiskHotplug}). */
    @Override
    public void hotAddDisk(Instance instance, Disk disk) throws HypervisorException {
        diskHotplug.addDisk(checkName(instance.name()), java.util.Objects.requireNonNull(disk, "disk"));
    }

    /** Ganeti's {@code HotDelDevice} for a disk over QMP ({@link KvmDiskHotplug}); the disk is known by its path. */
    @Override
    public void hotRemoveDisk(Instance instance, String devPath) throws HypervisorException {
        if (devPath == null || devPath.isEmpty()) {
            throw new HypervisorException("Cannot hot-remove a disk from instance " + instance.name()
                    + ": no dev_path given (the disk's node-local path, as hv:info shows it)");
        }
        diskHotplug.removeDisk(checkName(instance.name()), devPath);
    }

    /** Ganeti's {@code BalloonInstanceMemory} over QMP {@code balloon} ({@link KvmBalloon}). */
    @Override
    public void balloonInstanceMemory(Instance instance, int memoryMiB) throws HypervisorException {
        balloon.balloon(checkName(instance.name()), memoryMiB);
    }

    @Override
    public MigrationInfo migrationInfo(Instance instance) throws HypervisorException {
        checkName(instance.name());
        return migrator.info(instance);
    }

    @Override
    public void acceptInstance(Instance instance, MigrationInfo info, String targetAddress) throws HypervisorException {
        checkName(instance.name());
        migrator.accept(instance, info, targetAddress, hv -> {
            checkParameterSyntax(hv);
            core.diskChecks().filesAnswer(hv, "");
            validateParameters(hv);
        });
    }

    @Override
    public void migrateInstance(Instance instance, String targetAddress, boolean live) throws HypervisorException {
        checkName(instance.name());
        migrator.migrate(instance, targetAddress, live);
    }

    @Override
    public MigrationStatus migrationStatus(Instance instance) throws HypervisorException {
        checkName(instance.name());
        return migrator.status(instance);
    }

    @Override
    public void finalizeMigration(Instance instance, MigrationInfo info, boolean success) throws HypervisorException {
        checkName(instance.name());
        migrator.finalize(instance, info, success);
    }

    @Override
    public InstanceConsole instanceConsole(Instance instance) throws HypervisorException {
        checkName(instance.name());
        return KvmConsole.of(instance, core.filled(instance), settings, core.paths());
    }

    @Override
    public Optional<Path> serialSocket(String name) throws HypervisorException {
        Path socket = core.paths().serialSocket(checkName(name));
        return core.alive(name).isPresent() && Files.exists(socket, LinkOption.NOFOLLOW_LINKS) ? Optional.of(socket)
                : Optional.empty();
    }

    /** Through netdev's socket: the serial socket may lie deeper than the JDK's unix channels reach. */
    @Override
    public java.nio.channels.ByteChannel openSerial(String name) throws HypervisorException {
        Path socket = serialSocket(name).orElseThrow(() -> new HypervisorException("Instance " + name
                + " has no serial console socket (serial_console is off, or it is not running)"));
        try {
            return new SocketChannelAdapter(UnixSocket.connect(socket, Duration.ofSeconds(5)));
        } catch (NativeException | IllegalArgumentException e) {
            throw new HypervisorException("Cannot connect to the serial console of " + name + " (" + socket + "): "
                    + e.getMessage(), e);
        }
    }

    @Override
    public Optional<Path> serialLog(String name) throws HypervisorException {
        Path log = core.paths().serialLog(checkName(name));
        return Files.isRegularFile(log, LinkOption.NOFOLLOW_LINKS) ? Optional.of(log) : Optional.empty();
    }

    @Override
    public List<String> verify() {
        List<String> problems = new ArrayList<>();
        try {
            core.capabilities().of(settings.kvmPath());
        } catch (HypervisorException e) {
            problems.add(e.getMessage());
        }
        for (Path other : new java.util.TreeSet<>(settings.otherKvmPaths())) {
            try {
                core.capabilities().of(other);
            } catch (HypervisorException e) {
                problems.add("kvm.allowed.paths: " + e.getMessage());
            }
        }
        if (!Files.isWritable(settings.rootDir())) {
            problems.add("The runtime directory " + settings.rootDir() + " is not writable");
        }
        if (!Files.isExecutable(settings.socatPath())) {
            problems.add("The socat binary ('" + settings.socatPath() + "') does not exist.");
        }
        for (String name : core.list()) {
            try {
                core.store().load(name);
            } catch (HypervisorException e) {
                problems.add("Instance " + name + " runs, but " + e.getMessage() + "; it can be stopped (hv:stop)"
                        + " and cleaned up (hv:cleanup), not rebooted or migrated");
            }
        }
        return problems;
    }

    @Override
    public void checkParameterSyntax(Map<String, ?> hvparams) throws ParameterException {
        KvmParameters.checkSyntax(hvparams);
    }

    @Override
    public void validateParameters(Map<String, ?> hvparams) throws ParameterException {
        KvmParameters.validate(hvparams, nodeFacts());
        Path binary;
        try {
            binary = core.launcher().builder().binary(hvparams);
        } catch (HypervisorException e) {
            throw new ParameterException(KvmParameters.KVM_PATH, e.getMessage());
        }
        QemuCapabilities caps;
        try {
            caps = core.capabilities().of(binary);
        } catch (HypervisorException e) {
            // the start says why the binary cannot be used; hv:verify reports it too
            LOG.debug("Parameter checks against {} skipped: {}", binary, e.getMessage());
            caps = null;
        }
        if (caps != null) {
            BinaryChecks.validate(hvparams, caps);
        }
        spiceCertificates(hvparams);
        if ("enabled".equals(KvmParameters.str(hvparams, KvmParameters.KVM_FLAG))
                && Files.exists(Path.of("/sys/module/kvm_pvm"))) {
            throw new ParameterException(KvmParameters.KVM_FLAG, "kvm_flag enabled, but /dev/kvm on this node is"
                    + " kvm_pvm (software nested virtualisation) and cannot boot a real guest; use kvm_flag disabled");
        }
    }

    /** {@code spice_use_tls}: the node's certificate files are configured and readable (QEMU reads them at start). */
    private void spiceCertificates(Map<String, ?> hvparams) throws ParameterException {
        if (KvmParameters.str(hvparams, KvmParameters.SPICE_BIND).isEmpty()
                || !KvmParameters.bool(hvparams, KvmParameters.SPICE_USE_TLS)) {
            return;
        }
        var spice = settings.spice();
        if (!spice.hasCertificates()) {
            throw new ParameterException(KvmParameters.SPICE_USE_TLS, "spice_use_tls true: SPICE over TLS needs the"
                    + " node's SPICE certificate files, and this node has none (set spice.certificate and"
                    + " spice.ca.certificate in its configuration), or set spice_use_tls to false");
        }
        for (var f : List.of(Map.entry("spice.certificate", spice.certificate()),
                Map.entry("spice.ca.certificate", spice.caCertificate()))) {
            if (!Files.isRegularFile(f.getValue()) || !Files.isReadable(f.getValue())) {
                throw new ParameterException(KvmParameters.SPICE_USE_TLS, "spice_use_tls true: the node's "
                        + f.getKey() + " " + f.getValue() + " is not a readable file");
            }
        }
    }

    @Override
    public List<String> assessParameters(Map<String, ?> hvparams) {
        return KvmParameters.assess(hvparams);
    }

    /** The NIC hotplug (tests shorten its release wait). */
    KvmHotplug hotplug() {
        return hotplug;
    }

    /** {@code s} with the last migration this node saw for its QEMU process (issue #17). */
    private org.hvkit.hypervisor.InstanceStats withLastMigration(org.hvkit.hypervisor.InstanceStats s) {
        org.hvkit.hypervisor.InstanceStats.LastMigration m = s.pid() < 0 ? null : migrator.lastMigration(s.name(), s.pid());
        return m == null ? s : s.withLastMigration(m);
    }

    @Override
    public List<org.hvkit.hypervisor.InstanceStats> allInstanceStatistics() {
        return stats.all().stream().map(this::withLastMigration).toList();
    }

    @Override
    public Optional<org.hvkit.hypervisor.InstanceStats> instanceStatistics(String name) throws HypervisorException {
        return stats.one(checkName(name)).map(this::withLastMigration);
    }

    /** The component goes away (bundle stop or update, configuration deleted); QEMU runs on. */
    @Override
    public void close() {
        stats.close();
        core.close();
    }

    @Override
    public String toString() {
        return "KvmHypervisor[node=" + settings.node() + ", root=" + settings.rootDir() + "]";
    }
}
