package org.hvkit.fake.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceConsole;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.InstanceJson;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.MigrationInfo;
import org.hvkit.hypervisor.MigrationStatus;
import org.hvkit.hypervisor.NodeInfo;
import org.hvkit.hypervisor.ParameterCheck;
import org.hvkit.hypervisor.ParameterChecks;
import org.hvkit.hypervisor.ParameterException;
import org.hvkit.hypervisor.ParameterSpec;
import org.hvkit.hypervisor.ParameterType;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ganeti's fake hypervisor: every running instance is a state file, nothing is executed.
 * Start/stop/reboot/migrate only change those files, so it is what the swap tests and first
 * demos use. State survives bundle restarts and updates (the files are adopted).
 */
@Component(service = Hypervisor.class,
        configurationPid = FakeHypervisor.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        immediate = true, // validate the configuration at once, not on first use
        property = {Hypervisor.TYPE_PROPERTY + "=" + FakeHypervisor.TYPE,
                "service.description=hvkit fake hypervisor"})
@Designate(ocd = FakeConfiguration.class, factory = true)
public final class FakeHypervisor implements Hypervisor {

    static final String PID = "org.hvkit.fake";
    static final String TYPE = "fake";

    private static final Logger LOG = LoggerFactory.getLogger(FakeHypervisor.class);

    private static final Map<String, ParameterSpec> PARAMETERS;
    private static final Map<String, Object> DEFAULTS;

    static {
        Map<String, ParameterSpec> p = new LinkedHashMap<>();
        p.put("migration_mode", ParameterSpec.global("migration_mode", ParameterType.STRING, "live",
                ParameterCheck.MIGRATION_MODE_CHECK, "Default migration mode: live or non-live"));
        PARAMETERS = java.util.Collections.unmodifiableMap(p);
        Map<String, Object> d = new LinkedHashMap<>();
        p.values().forEach(s -> d.put(s.name(), s.defaultValue()));
        DEFAULTS = java.util.Collections.unmodifiableMap(d);
    }

    private final String node;
    private final FakeStateStore store;
    private final Map<String, MigrationStatus> migrations = new ConcurrentHashMap<>();
    private final Object lock = new Object();

    @Activate
    public FakeHypervisor(FakeConfiguration config) {
        this(nodeName(config.hypervisor_node()), stateDir(config.state_dir()));
    }

    FakeHypervisor(String node, Path stateDir) {
        this.node = node;
        this.store = new FakeStateStore(stateDir);
        try {
            store.ensureDirectory();
        } catch (IOException e) {
            throw new IllegalStateException("org.hvkit.fake: state.dir '" + stateDir + "' is unusable: " + e, e);
        }
        LOG.info("Fake hypervisor for node {} keeps its state in {}", node, stateDir);
    }

    private static String nodeName(String configured) {
        if (configured != null && !configured.isBlank()) {
            return configured.trim();
        }
        return NodeInfo.hostname();
    }

    private static Path stateDir(String configured) {
        if (!ParameterCheck.isAbsoluteNormalizedPath(configured)) {
            throw new IllegalArgumentException("org.hvkit.fake: state.dir must be an absolute normalized path,"
                    + " got '" + configured + "'");
        }
        return Path.of(configured);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public String node() {
        return node;
    }

    @Override
    public boolean canMigrate() {
        return true;
    }

    @Override
    public Map<String, ParameterSpec> parameters() {
        return PARAMETERS;
    }

    @Override
    public Map<String, Object> defaults() {
        return DEFAULTS;
    }

    /** The instances whose state file reads; a corrupt one is not alive (but {@link #knownInstances}). */
    @Override
    public List<String> listInstances() throws HypervisorException {
        List<String> alive = new ArrayList<>();
        for (String name : store.names()) {
            if (store.read(name).isPresent()) {
                alive.add(name);
            }
        }
        return alive;
    }

    /** Every state file, readable or not, and every instance with a migration record. */
    @Override
    public List<String> knownInstances() throws HypervisorException {
        TreeSet<String> names = new TreeSet<>(store.names());
        names.addAll(migrations.keySet());
        return new ArrayList<>(names);
    }

    @Override
    public InstanceInfo instanceInfo(String name) throws HypervisorException {
        Instance.requireValidName(name);
        return store.read(name).map(s -> info(name, s)).orElse(null);
    }

    private static InstanceInfo info(String name, FakeState s) {
        return new InstanceInfo(name, -1, s.instance().beparams().memory(), s.instance().beparams().vcpus(),
                s.state(), 0);
    }

    @Override
    public Instance runningInstance(String name) throws HypervisorException {
        Instance.requireValidName(name);
        return store.read(name).map(FakeState::instance).orElse(null);
    }

    @Override
    public void startInstance(Instance instance, boolean startPaused) throws HypervisorException {
        Map<String, Object> filled = ParameterChecks.fill(PARAMETERS, DEFAULTS, instance.hvparams());
        checkParameterSyntax(filled);
        synchronized (lock) {
            if (store.read(instance.name()).isPresent()) {
                throw new HypervisorException("Failed to start instance " + instance.name() + ": already running");
            }
            store.write(new FakeState(instance.toBuilder().hypervisor(TYPE).primaryNode(node).hvparams(filled).build(),
                    startPaused ? InstanceState.PAUSED : InstanceState.RUNNING, System.currentTimeMillis()));
        }
        LOG.info("Fake instance {} started on {}{}", instance.name(), node, startPaused ? " (paused)" : "");
    }

    @Override
    public void stopInstance(Instance instance, boolean force, Duration timeout) throws HypervisorException {
        stopInstanceByName(instance.name());
    }

    @Override
    public void stopInstanceByName(String name) throws HypervisorException {
        Instance.requireValidName(name);
        if (!store.delete(name)) {
            throw new HypervisorException("Failed to stop instance " + name + ": not running");
        }
        LOG.info("Fake instance {} stopped on {}", name, node);
    }

    /** Refuses a live instance; otherwise drops its migration record and a corrupt state file. */
    @Override
    public void cleanupInstance(String name) throws HypervisorException {
        Instance.requireValidName(name);
        synchronized (lock) {
            if (store.read(name).isPresent()) {
                throw new HypervisorException("Cannot cleanup a live instance " + name);
            }
            if (store.delete(name)) {
                LOG.info("Removed the unreadable state of fake instance {} on {}", name, node);
            }
        }
        migrations.remove(name);
    }

    @Override
    public void rebootInstance(Instance instance) throws HypervisorException {
        synchronized (lock) {
            FakeState s = alive(instance.name(), "Failed to reboot instance " + instance.name() + ": not running");
            store.write(new FakeState(s.instance(), InstanceState.RUNNING, System.currentTimeMillis()));
        }
    }

    @Override
    public MigrationInfo migrationInfo(Instance instance) throws HypervisorException {
        FakeState s = alive(instance.name(), "Instance " + instance.name() + " not running, cannot migrate");
        return new MigrationInfo(InstanceJson.write(s.instance()));
    }

    @Override
    public void acceptInstance(Instance instance, MigrationInfo info, String targetAddress) throws HypervisorException {
        if (store.read(instance.name()).isPresent()) {
            throw new HypervisorException("Can't accept instance " + instance.name() + ", already running");
        }
    }

    @Override
    public void migrateInstance(Instance instance, String targetAddress, boolean live) throws HypervisorException {
        FakeState s = alive(instance.name(), "Instance " + instance.name() + " not running, cannot migrate");
        LOG.info("Fake migration of {} from {} to {} (live={})", instance.name(), node, targetAddress, live);
        store.delete(instance.name());
        long ram = s.instance().beparams().memory() * 1024L * 1024L;
        migrations.put(instance.name(), new MigrationStatus(MigrationStatus.State.COMPLETED, ram, 0, ram));
    }

    @Override
    public MigrationStatus migrationStatus(Instance instance) {
        return migrations.getOrDefault(instance.name(), new MigrationStatus(MigrationStatus.State.NONE, 0, 0, 0));
    }

    @Override
    public void finalizeMigration(Instance instance, MigrationInfo info, boolean success) throws HypervisorException {
        if (!success) {
            store.delete(instance.name());
            return;
        }
        Instance migrated = InstanceJson.read(info.data()).toBuilder().primaryNode(node).build();
        if (!migrated.name().equals(instance.name())) {
            throw new HypervisorException("Cannot finalize the migration of instance " + instance.name()
                    + ": the migration data describes instance " + migrated.name());
        }
        store.write(new FakeState(migrated, InstanceState.RUNNING, System.currentTimeMillis()));
    }

    @Override
    public InstanceConsole instanceConsole(Instance instance) {
        return InstanceConsole.message(instance.name(), "Console not available for fake hypervisor");
    }

    @Override
    public List<String> verify() {
        List<String> problems = new ArrayList<>();
        if (!Files.isDirectory(store.dir()) || !Files.isWritable(store.dir())) {
            problems.add("The fake hypervisor state directory " + store.dir() + " is missing or not writable");
        }
        return problems;
    }

    @Override
    public void checkParameterSyntax(Map<String, ?> hvparams) throws ParameterException {
        ParameterChecks.checkSyntax(PARAMETERS, hvparams);
    }

    @Override
    public void validateParameters(Map<String, ?> hvparams) throws ParameterException {
        ParameterChecks.validate(PARAMETERS, hvparams);
    }

    @Override
    public List<String> assessParameters(Map<String, ?> hvparams) {
        return List.of();
    }

    private FakeState alive(String name, String errorIfNot) throws HypervisorException {
        return store.read(name).orElseThrow(() -> new HypervisorException(errorIfNot));
    }

    @Override
    public String toString() {
        return "FakeHypervisor[node=" + node + ", dir=" + store.dir() + "]";
    }
}
