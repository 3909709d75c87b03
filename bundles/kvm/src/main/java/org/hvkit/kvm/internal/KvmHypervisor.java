package org.hvkit.kvm.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.CommandLinePreview;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceConsole;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.MigrationInfo;
import org.hvkit.hypervisor.MigrationStatus;
import org.hvkit.hypervisor.NodeInfo;
import org.hvkit.hypervisor.ParameterChecks;
import org.hvkit.hypervisor.ParameterException;
import org.hvkit.hypervisor.ParameterSpec;
import org.hvkit.hypervisor.SerialConsole;
import org.hvkit.kvm.internal.argv.KvmArgvBuilder;
import org.hvkit.kvm.internal.argv.RuntimePaths;
import org.hvkit.kvm.internal.caps.CapabilityCache;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.network.NativeNicConfigurator;
import org.hvkit.kvm.internal.network.NicConfigurator;
import org.hvkit.kvm.internal.network.ScriptNicConfigurator;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.process.Accounts;
import org.hvkit.kvm.internal.process.QemuProcess;
import org.hvkit.kvm.internal.process.QemuProcesses;
import org.hvkit.kvm.internal.runtime.InstanceCleaner;
import org.hvkit.kvm.internal.runtime.RuntimeStore;
import org.hvkit.netdev.Netlink;
import org.hvkit.netdev.ProcessSpawner;
import org.hvkit.netdev.TapDevices;
import org.hvkit.uidpool.UidPool;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ganeti's KVM hypervisor as a DS component, one per configured node. Everything it knows
 * lives in the runtime directory, so a new component (bundle update, restart) adopts the
 * instances an earlier one started.
 */
@Component(service = {Hypervisor.class, CommandLinePreview.class, SerialConsole.class},
        configurationPid = KvmHypervisor.PID,
        // a node must be configured: an unconfigured default would create /run/hvkit/... wherever the bundle lands
        configurationPolicy = ConfigurationPolicy.REQUIRE, immediate = true,
        property = {Hypervisor.TYPE_PROPERTY + "=kvm", "service.description=hvkit KVM hypervisor"})
@Designate(ocd = KvmConfiguration.class, factory = true)
public final class KvmHypervisor implements Hypervisor, CommandLinePreview, SerialConsole {

    static final String PID = "org.hvkit.kvm";
    private static final Logger LOG = LoggerFactory.getLogger(KvmHypervisor.class);
    static final Duration QMP_TIMEOUT = Duration.ofSeconds(10);
    private final Monitors monitors = new Monitors(QMP_TIMEOUT);

    private final KvmSettings settings;
    private final RuntimeStore store;
    private final CapabilityCache capabilities;
    private final QemuProcesses processes = new QemuProcesses();
    private final Accounts accounts;
    private final KvmLauncher launcher;
    private final InstanceCleaner cleaner;
    private final KvmMigrator migrator;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile UidPool uidPool;

    @Activate
    public KvmHypervisor(@Reference ProcessSpawner spawner, @Reference TapDevices taps, @Reference Netlink netlink,
                         KvmConfiguration config, Map<String, Object> properties) {
        this(KvmSettings.from(config, properties), spawner, taps, netlink);
    }

    KvmHypervisor(KvmSettings settings, ProcessSpawner spawner, TapDevices taps, Netlink netlink) {
        this.settings = settings;
        RuntimePaths paths = new RuntimePaths(settings.rootDir());
        this.store = new RuntimeStore(paths);
        this.capabilities = new CapabilityCache(spawner);
        this.accounts = new Accounts(spawner);
        this.cleaner = new InstanceCleaner(paths);
        try {
            store.ensureDirectories();
        } catch (HypervisorException e) {
            throw new IllegalStateException(PID + ": root.dir " + e.getMessage(), e);
        }
        NicConfigurator nics = settings.scriptNicSetup()
                ? new ScriptNicConfigurator(ifupScript(settings, paths), spawner, Duration.ofSeconds(60))
                : new NativeNicConfigurator(netlink);
        this.launcher = new KvmLauncher(settings.kvmPath(), paths, spawner, taps, nics, processes, accounts, monitors,
                Duration.ofSeconds(60));
        this.migrator = new KvmMigrator(this, settings, store, capabilities, launcher, processes, cleaner);
        LOG.info("KVM hypervisor for node {}: {} in {}, NIC setup {}", settings.node(), settings.kvmPath(),
                settings.rootDir(), settings.scriptNicSetup() ? "script" : "native");
        settings.hvparamDefaults().forEach((k, v) -> {
            if (!java.util.Objects.equals(v, KvmParameters.DEFAULTS.get(k))) {
                LOG.info("KVM hypervisor for node {}: node default {} = {}", settings.node(), k, v);
            }
        });
    }

    UidPool uidPool() {
        return uidPool;
    }

    /** For benchmark-style test output: the last migration's completion-notice latency, or null. */
    Duration lastMigrationNoticeLatency() {
        return migrator.lastNoticed;
    }

    /** For benchmarks: QEMU's timestamp of the last migration's completed event, or null. */
    java.time.Instant lastMigrationCompleted() {
        return migrator.lastCompleted;
    }

    /** Test seam: the uid pool without DS. */
    void setUidPool(UidPool pool) {
        this.uidPool = pool;
    }

    private static Path ifupScript(KvmSettings s, RuntimePaths paths) {
        if (s.ifupScript() != null) {
            return s.ifupScript();
        }
        Path builtIn = paths.root().resolve("kvm-ifup");
        try (InputStream in = KvmHypervisor.class.getResourceAsStream("/org/hvkit/kvm/kvm-ifup")) {
            Files.copy(in, builtIn, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(builtIn, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new IllegalStateException(PID + ": cannot install the built-in kvm-ifup at " + builtIn + ": " + e, e);
        }
        return builtIn;
    }

    @Override public String type() { return "kvm"; }
    @Override public String node() { return settings.node(); }
    @Override public boolean canMigrate() { return true; }
    @Override public Map<String, ParameterSpec> parameters() { return KvmParameters.PARAMETERS; }
    @Override public Map<String, Object> defaults() { return settings.hvparamDefaults(); }

    Optional<QemuProcess> alive(String name) {
        return processes.alive(QemuProcesses.readPid(store.paths().pidFile(name)), name);
    }

    @Override
    public List<String> listInstances() {
        List<String> out = new ArrayList<>();
        for (String name : store.knownNames()) {
            if (monitors.connected(name) || alive(name).isPresent()) {
                out.add(name);
            }
        }
        return out;
    }

    /**
     * From the instance's kept QMP connection when it is healthy (no file read at all: a list
     * of hundreds costs a non-blocking read each); else from /proc, which also attaches the
     * process to the connection for the next time.
     */
    @Override
    public Optional<InstanceInfo> instanceInfo(String name) {
        Optional<Monitors.Snapshot> kept = monitors.snapshot(name);
        if (kept.isPresent()) {
            return Optional.of(info(name, kept.get().process(), kept.get().status()));
        }
        return alive(name).map(p -> info(name, p, monitors.status(name, store.paths().qmpSocket(name), p)
                // a busy monitor (stop, migration) or a silent one: the process is alive, so running
                .orElse("running")));
    }

    private static InstanceInfo info(String name, QemuProcess p, String status) {
        InstanceState state = "running".equals(status) ? InstanceState.RUNNING
                : "shutdown".equals(status) ? InstanceState.SHUTDOWN : InstanceState.PAUSED;
        return new InstanceInfo(name, p.pid(), p.memoryMiB(), p.vcpus(), state, 0);
    }

    /** DS: the component goes away (bundle stop or update, configuration deleted); QEMU runs on. */
    @Deactivate
    void deactivate() {
        monitors.close();
    }

    /** Runs QMP commands on a live instance's kept connection. */
    <T> T onMonitor(String name, long pid, Monitors.QmpCall<T> call) throws HypervisorException {
        return monitors.call(name, store.paths().qmpSocket(name), pid, call);
    }

    Monitors monitors() {
        return monitors;
    }

    @Override
    public List<InstanceInfo> allInstancesInfo() {
        List<InstanceInfo> out = new ArrayList<>();
        for (String name : store.knownNames()) {
            instanceInfo(name).ifPresent(out::add);
        }
        return out;
    }

    @Override
    public Optional<Instance> runningInstance(String name) throws HypervisorException {
        if (alive(name).isEmpty()) {
            return Optional.empty();
        }
        return store.load(name).flatMap(s -> s.instance().map(i -> i.withHvparams(s.runtime().hvparams())));
    }

    Map<String, Object> filled(Instance instance) throws ParameterException {
        return new LinkedHashMap<>(ParameterChecks.fill(KvmParameters.PARAMETERS, settings.hvparamDefaults(),
                instance.hvparams()));
    }

    private KvmParameters.Node nodeFacts() {
        return new KvmParameters.Node(accounts::userExists, Path.of("/dev/vhost-net"));
    }

    @Override
    public List<String> previewCommand(Instance instance) throws HypervisorException {
        Map<String, Object> hv = filled(instance);
        checkParameterSyntax(hv);
        QemuCapabilities caps = capabilities.of(settings.kvmPath());
        KvmArgvBuilder.Generated g = launcher.builder().generate(instance, hv, caps);
        String poolUser = "pool".equals(KvmParameters.str(hv, KvmParameters.SECURITY_MODEL)) ? "<pool-user>" : null;
        return launcher.preview(g.runtime(), hv, caps, poolUser);
    }

    @Override
    public void startInstance(Instance instance, boolean startPaused) throws HypervisorException {
        String name = instance.name();
        if (alive(name).isPresent()) {
            throw new HypervisorException("Failed to start instance " + name + ": already running");
        }
        Map<String, Object> hv = filled(instance);
        checkParameterSyntax(hv);
        validateParameters(hv);
        QemuCapabilities caps = capabilities.of(settings.kvmPath());
        Instance started = instance.toBuilder().hypervisor("kvm").hvparams(hv)
                .primaryNode(instance.primaryNode().isEmpty() ? settings.node() : instance.primaryNode()).build();
        KvmArgvBuilder.Generated g = launcher.builder().generate(started, hv, caps);
        g.warnings().forEach(w -> LOG.warn("{}: {}", name, w));
        store.save(name, g.runtime(), started);
        try {
            launcher.execute(started, g.runtime(), hv, caps, uidPool, null, startPaused);
        } catch (HypervisorException | RuntimeException e) {
            cleanQuietly(name);
            throw e;
        }
    }

    void cleanQuietly(String name) {
        monitors.forget(name);
        try {
            cleaner.removeAll(name, uidPool);
        } catch (HypervisorException e) {
            LOG.warn("Cleaning up after {}: {}", name, e.getMessage());
        }
    }

    @Override
    public void stopInstance(Instance instance, boolean force, Duration timeout) throws HypervisorException {
        String name = instance.name();
        Optional<QemuProcess> p = alive(name);
        if (p.isEmpty()) {
            return;
        }
        boolean acpi = KvmParameters.bool(filled(instance), KvmParameters.ACPI);
        try {
            if (!force && acpi) {
                try {
                    onMonitor(name, p.get().pid(), q -> q.execute("system_powerdown", Map.of()));
                } catch (HypervisorException e) {
                    LOG.warn("ACPI powerdown of {} failed ({}); killing it", name, e.getMessage());
                }
                if (processes.waitGone(p.get().pid(), timeout)) {
                    LOG.info("Instance {} shut down cleanly", name);
                    return;
                }
                LOG.warn("Instance {} did not shut down within {}; killing it", name, timeout);
            }
            if (!processes.kill(p.get().pid(), Duration.ofSeconds(30))) {
                throw new HypervisorException("Failed to stop instance " + name + ": pid " + p.get().pid()
                        + " survived SIGKILL");
            }
        } finally {
            monitors.forget(name);
        }
    }

    @Override
    public void stopInstanceByName(String name) throws HypervisorException {
        Optional<QemuProcess> p = alive(name);
        monitors.forget(name);
        if (p.isPresent() && !processes.kill(p.get().pid(), Duration.ofSeconds(30))) {
            throw new HypervisorException("Failed to stop instance " + name + ": pid " + p.get().pid()
                    + " survived SIGKILL");
        }
    }

    @Override
    public void cleanupInstance(String name) throws HypervisorException {
        if (alive(name).isPresent()) {
            throw new HypervisorException("Cannot cleanup a live instance " + name);
        }
        monitors.forget(name);
        cleaner.removeAll(name, uidPool);
    }

    @Override
    public void rebootInstance(Instance instance) throws HypervisorException {
        String name = instance.name();
        if (alive(name).isEmpty()) {
            throw new HypervisorException("Failed to reboot instance " + name + ": not running");
        }
        RuntimeStore.Saved saved = store.load(name).orElseThrow(
                () -> new HypervisorException("Failed to reboot instance " + name + ": no saved runtime"));
        Instance def = saved.instance().orElse(instance);
        // SPEC k.1: a clean stop that really waits, forced only after the timeout
        stopInstance(def.withHvparams(saved.runtime().hvparams()), false, settings.stopTimeout());
        cleaner.releaseResources(name, uidPool);
        Map<String, Object> conf = filled(instance);
        launcher.execute(def, saved.runtime(), conf, capabilities.of(settings.kvmPath()), uidPool, null, false);
        store.saveText(name, saved.text());
    }

    @Override
    public MigrationInfo migrationInfo(Instance instance) throws HypervisorException {
        return migrator.info(instance);
    }

    @Override
    public void acceptInstance(Instance instance, MigrationInfo info, String targetAddress) throws HypervisorException {
        migrator.accept(instance, info, targetAddress);
    }

    @Override
    public void migrateInstance(Instance instance, String targetAddress, boolean live) throws HypervisorException {
        migrator.migrate(instance, targetAddress, live);
    }

    @Override
    public MigrationStatus migrationStatus(Instance instance) {
        return migrator.status(instance);
    }

    @Override
    public void finalizeMigration(Instance instance, MigrationInfo info, boolean success) throws HypervisorException {
        migrator.finalize(instance, info, success);
    }

    @Override
    public InstanceConsole instanceConsole(Instance instance) throws HypervisorException {
        return KvmConsole.of(instance, filled(instance), settings, store.paths());
    }

    @Override
    public Optional<Path> serialSocket(String name) throws HypervisorException {
        Path socket = store.paths().serialSocket(name);
        return alive(name).isPresent() && Files.exists(socket) ? Optional.of(socket) : Optional.empty();
    }

    @Override
    public Optional<Path> serialLog(String name) {
        Path log = store.paths().serialLog(name);
        return Files.isRegularFile(log) ? Optional.of(log) : Optional.empty();
    }

    @Override
    public NodeInfo nodeInfo() throws HypervisorException {
        return NodeInfo.ofLinux();
    }

    @Override
    public List<String> verify() {
        List<String> problems = new ArrayList<>();
        try {
            capabilities.of(settings.kvmPath());
        } catch (HypervisorException e) {
            problems.add(e.getMessage());
        }
        if (!Files.isWritable(settings.rootDir())) {
            problems.add("The runtime directory " + settings.rootDir() + " is not writable");
        }
        if (!Files.isExecutable(settings.socatPath())) {
            problems.add("The socat binary ('" + settings.socatPath() + "') does not exist.");
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
        if ("enabled".equals(KvmParameters.str(hvparams, KvmParameters.KVM_FLAG))
                && Files.exists(Path.of("/sys/module/kvm_pvm"))) {
            throw new ParameterException(KvmParameters.KVM_FLAG, "kvm_flag enabled, but /dev/kvm on this node is"
                    + " kvm_pvm (software nested virtualisation) and cannot boot a real guest; use kvm_flag disabled");
        }
    }

    @Override
    public List<String> assessParameters(Map<String, ?> hvparams) {
        return KvmParameters.assess(hvparams);
    }

    /** QMP status of a live instance (for tests and the shell). */
    JsonNode qmp(String name, String command) throws HypervisorException {
        long pid = alive(name).orElseThrow(() -> new HypervisorException("Instance " + name + " is not running")).pid();
        return onMonitor(name, pid, q -> q.execute(command, Map.of()));
    }

    @Override
    public String toString() {
        return "KvmHypervisor[node=" + settings.node() + ", root=" + settings.rootDir() + "]";
    }
}
