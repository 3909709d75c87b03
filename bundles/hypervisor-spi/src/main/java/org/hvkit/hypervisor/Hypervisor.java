package org.hvkit.hypervisor;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A hypervisor on one node (Ganeti's {@code BaseHypervisor}). Implementations register this
 * interface as an OSGi service with the properties {@value #TYPE_PROPERTY} and
 * {@value #NODE_PROPERTY}; consumers select by those. A registration may come and go at any
 * time (bundle update, reconfiguration): instances keep running, and the next registration
 * adopts them from the hypervisor's runtime state on disk.
 *
 * <p>Instance parameters handed to the lifecycle methods are the <em>filled</em> parameters
 * (defaults overlaid with the instance's own, see {@link ParameterChecks#fill}).
 *
 * <p><b>Names.</b> Instance names end up in file names, socket paths and command lines. Every
 * method that takes a name ({@link #instanceInfo}, {@link #runningInstance},
 * {@link #stopInstanceByName}, {@link #cleanupInstance}, and {@link SerialConsole}'s methods)
 * refuses an invalid one ({@link Instance#isValidName}) with the {@link HypervisorException} of
 * {@link Instance#requireValidName} <em>before touching anything</em>: no file is read, written,
 * removed or resolved, no process is signalled. Methods that take an {@link Instance} get a
 * valid name by construction. (Contract since 1.2.)
 *
 * <p><b>Remote callers</b> (since 2.0). The service may be a proxy for a hypervisor on another
 * machine (OSGi Remote Services; such a registration carries the standard
 * {@code service.imported} property). Every argument and answer of every method here, default
 * methods included (a proxy forwards those too), is therefore {@link java.io.Serializable} data
 * of this package or of the JDK: there is no {@code Optional} (an absent answer is {@code null})
 * and no stream. Exceptions arrive with their messages (see {@link HypervisorException}).
 * {@link #instanceConsole} is the exception: a console belongs to the node, and a remote caller
 * gets a {@link HypervisorException} naming the node to open it on.
 */
@ProviderType
public interface Hypervisor {

    /** Service property: the hypervisor type, e.g. {@code kvm} or {@code fake}. */
    String TYPE_PROPERTY = "hypervisor.type";
    /** Service property: the name of the node this hypervisor runs instances on. */
    String NODE_PROPERTY = "hypervisor.node";
    /**
     * Service property: the address this node's migration targets listen on (what
     * {@link #acceptInstance} and {@link #migrateInstance} are given as {@code targetAddress});
     * absent means loopback. Since 1.2.
     */
    String ADDRESS_PROPERTY = "hypervisor.address";
    /**
     * Service property {@code true} on the facade the {@code org.hvkit.remote} bundle registers
     * for each local hypervisor in order to export it (issue #16). The facade stands for a local
     * hypervisor that is registered as well, so local consumers (shell, metrics, migration) ignore
     * such registrations; filter {@value #NOT_FACADE_FILTER}. Since 2.0.
     */
    String FACADE_PROPERTY = "hvkit.facade";
    /**
     * The LDAP filter that leaves out this JVM's own {@linkplain #FACADE_PROPERTY facades} but
     * keeps what another machine exported: the facade's properties travel with the export, so an
     * imported service carries {@value #FACADE_PROPERTY} too, and {@code service.imported} tells
     * it apart. Since 2.0.
     */
    String NOT_FACADE_FILTER = "(|(!(" + FACADE_PROPERTY + "=true))(service.imported=*))";

    /** The hypervisor type, equal to the {@value #TYPE_PROPERTY} service property. */
    String type();

    /** The node name, equal to the {@value #NODE_PROPERTY} service property. */
    String node();

    /** Whether this hypervisor supports migration. */
    boolean canMigrate();

    /** The parameter catalogue, in a stable order: name to specification. */
    Map<String, ParameterSpec> parameters();

    /** The default value of every parameter (the same keys as {@link #parameters()}). */
    Map<String, Object> defaults();

    /** Names of the instances alive on this node. */
    List<String> listInstances() throws HypervisorException;

    /**
     * Names of the instances that have runtime state on this node, alive or not: what
     * {@link #cleanupInstance} would act on (e.g. a crashed instance whose files remain). Every
     * alive instance is among them. The default returns {@link #listInstances()}, for providers
     * whose runtime state disappears with the instance. Since 1.2.
     */
    default List<String> knownInstances() throws HypervisorException {
        return listInstances();
    }

    /**
     * Information about one instance, {@code null} when it is not alive (an {@code Optional}
     * before 2.0; wrap the answer in {@code Optional.ofNullable} where one is wanted).
     *
     * @throws HypervisorException also for an invalid name (see the name contract above)
     */
    InstanceInfo instanceInfo(String name) throws HypervisorException;

    /**
     * Information about every alive instance; instances that cannot be inspected are skipped.
     * The default asks {@link #instanceInfo} for each of {@link #listInstances} (Ganeti's base
     * loop; a default since 1.2).
     */
    default List<InstanceInfo> allInstancesInfo() throws HypervisorException {
        // Ganeti's BaseHypervisor loop; a hypervisor that can answer for all at once overrides it
        List<InstanceInfo> out = new java.util.ArrayList<>();
        for (String name : listInstances()) {
            InstanceInfo info = instanceInfo(name);
            if (info != null) {
                out.add(info);
            }
        }
        return out;
    }

    /**
     * The definition an alive instance was started with, as saved in the hypervisor's runtime
     * state; {@code null} when the instance is not alive (an {@code Optional} before 2.0). Lets
     * name-only callers (a shell) call the methods that take an {@link Instance}.
     *
     * @throws HypervisorException also for an invalid name (see the name contract above)
     */
    Instance runningInstance(String name) throws HypervisorException;

    /**
     * Starts an instance. Disks carry their node-local {@link Disk#devPath()}. On failure,
     * everything the call created is undone before the exception is thrown.
     *
     * @param startPaused leave the guest's CPUs stopped after start
     */
    void startInstance(Instance instance, boolean startPaused) throws HypervisorException;

    /**
     * Stops an instance and waits until it is gone. Without {@code force} the guest is asked
     * to shut down (ACPI where available) and killed when {@code timeout} elapses; with
     * {@code force} it is killed at once. Runtime files stay until {@link #cleanupInstance}.
     */
    void stopInstance(Instance instance, boolean force, Duration timeout) throws HypervisorException;

    /**
     * How long a clean stop waits on this node unless the caller says otherwise (KVM: the node's
     * {@code stop.timeout.seconds}). The default is Ganeti's 120 s. Since 1.2.
     */
    default Duration defaultStopTimeout() {
        return Duration.ofSeconds(120);
    }

    /**
     * Kills an instance known only by name (Ganeti's watcher path).
     *
     * @throws HypervisorException also for an invalid name (see the name contract above)
     */
    void stopInstanceByName(String name) throws HypervisorException;

    /**
     * Removes the runtime state of a stopped instance; refuses a live one.
     *
     * @throws HypervisorException also for an invalid name (see the name contract above)
     */
    void cleanupInstance(String name) throws HypervisorException;

    /** Soft reboot: clean stop, then start again from the saved runtime. */
    void rebootInstance(Instance instance) throws HypervisorException;

    /**
     * Ganeti's {@code BalloonInstanceMemory}: asks the running guest to give memory back (or take
     * it again) until it holds {@code memoryMiB}, through its balloon device. Returns once the
     * hypervisor accepted the target; the guest reaches it in its own time (see
     * {@link InstanceStats#balloonBytes}). A target above the instance's memory or below what a
     * guest can live on is refused and changes nothing. The default refuses: a hypervisor
     * without a balloon. Since 2.0.
     *
     * @throws HypervisorException when the instance is not running, the value is out of bounds,
     *                             the guest has no balloon device, or this hypervisor cannot balloon
     */
    default void balloonInstanceMemory(Instance instance, int memoryMiB) throws HypervisorException {
        throw new HypervisorException("Cannot balloon the memory of instance " + instance.name() + ": the " + type()
                + " hypervisor has no memory balloon");
    }

    /**
     * Ganeti's {@code HotplugSupported}: returns when the running instance can take hot-plugged
     * devices now, else throws saying why (not running, a hypervisor or binary without hotplug,
     * an instance started without explicit device slots). The default: no hotplug. Since 2.0.
     *
     * @throws HypervisorException naming the reason
     */
    default void checkHotplugSupport(Instance instance) throws HypervisorException {
        throw new HypervisorException("Cannot hotplug on instance " + instance.name() + ": the " + type()
                + " hypervisor has no device hotplug");
    }

    /**
     * Ganeti's {@code HotAddDevice} for a NIC: the running guest gets {@code nic} (a MAC it has
     * not, a bridge that exists or a routed IP), connected like a NIC at start, and keeps it
     * across a reboot and a migration. A failure leaves nothing behind (no tap, no device, no
     * changed file). The default refuses. Since 2.0.
     */
    default void hotAddNic(Instance instance, Nic nic) throws HypervisorException {
        throw new HypervisorException("Cannot hot-add a NIC to instance " + instance.name() + ": the " + type()
                + " hypervisor has no device hotplug");
    }

    /**
     * Ganeti's {@code HotModDevice} for a NIC: the NIC with {@code nic}'s MAC keeps its place in
     * the guest while its host side moves to {@code nic}'s mode, link and IP (another bridge, or
     * routed); a failure restores the old connection. The default refuses. Since 2.0.
     */
    default void hotModifyNic(Instance instance, Nic nic) throws HypervisorException {
        throw new HypervisorException("Cannot modify a NIC of instance " + instance.name() + ": the " + type()
                + " hypervisor has no device hotplug");
    }

    /**
     * Ganeti's {@code HotDelDevice} for a NIC: the running guest lets go of its NIC with MAC
     * {@code mac} (the hypervisor waits a bounded time for it), then the NIC's host side goes and
     * the instance's definition no longer has it. The default refuses. Since 2.0.
     *
     * @throws HypervisorException also when the instance has no such NIC or the guest does not
     *                             release it in time (the NIC then stays)
     */
    default void hotRemoveNic(Instance instance, String mac) throws HypervisorException {
        throw new HypervisorException("Cannot hot-remove a NIC from instance " + instance.name() + ": the " + type()
                + " hypervisor has no device hotplug");
    }

    /**
     * Ganeti's {@code HotAddDevice} for a disk: the running guest gets {@code disk} as a new
     * virtio disk, opened with the rules of a start (the same cache, {@code auto-read-only},
     * discard and aio settings; a block device or a regular image file at an absolute normalized
     * path; read-write, as KVM instances take no read-only disks), and keeps it across a reboot
     * and a migration. A disk is known by its {@link Disk#devPath()}: the node-local path is
     * what names a disk in hvkit's instance model (Ganeti names it by UUID, which hvkit's model
     * does not carry), and it stays the same while the indices of the disks after a removed one
     * shift. A path the instance has already, or one another running instance of the node uses,
     * is refused. A failure leaves nothing behind (no descriptor, block node, device or changed
     * file). The default refuses. Since 2.1.
     */
    default void hotAddDisk(Instance instance, Disk disk) throws HypervisorException {
        throw new HypervisorException("Cannot hot-add a disk to instance " + instance.name() + ": the " + type()
                + " hypervisor has no disk hotplug");
    }

    /**
     * Ganeti's {@code HotDelDevice} for a disk: the running guest lets go of its disk whose
     * {@link Disk#devPath()} is {@code devPath} (the hypervisor waits a bounded time for it), then
     * the hypervisor closes it and the instance's definition no longer has it. The default
     * refuses. Since 2.1.
     *
     * @throws HypervisorException also when the instance has no such disk, the disk cannot be
     *                             unplugged (no PCI slot of its own), or the guest does not release
     *                             it in time (the disk then stays)
     */
    default void hotRemoveDisk(Instance instance, String devPath) throws HypervisorException {
        throw new HypervisorException("Cannot hot-remove a disk from instance " + instance.name() + ": the " + type()
                + " hypervisor has no disk hotplug");
    }

    /** Source side: what the target needs to accept the instance. */
    MigrationInfo migrationInfo(Instance instance) throws HypervisorException;

    /** Target side: prepare to receive the instance at {@code targetAddress}. */
    void acceptInstance(Instance instance, MigrationInfo info, String targetAddress) throws HypervisorException;

    /** Source side: migrate to {@code targetAddress}; returns when the migration has ended. */
    void migrateInstance(Instance instance, String targetAddress, boolean live) throws HypervisorException;

    /** Source side: the progress of the current migration. */
    MigrationStatus migrationStatus(Instance instance) throws HypervisorException;

    /** Target side: commit ({@code success}) or abort (kill and clean up) an accepted instance. */
    void finalizeMigration(Instance instance, MigrationInfo info, boolean success) throws HypervisorException;

    /**
     * How to reach the instance's console. Local callers only: through a remote proxy this
     * throws a {@link HypervisorException} naming the node whose console it is (since 2.0).
     */
    InstanceConsole instanceConsole(Instance instance) throws HypervisorException;

    /** Resources of this node; the default reads this Linux machine's (a default since 1.2). */
    default NodeInfo nodeInfo() throws HypervisorException {
        return NodeInfo.ofLinux();
    }

    /** Problems with this node's setup; empty when all is well. */
    List<String> verify();

    /**
     * Master-side syntax check of a filled parameter dict (no filesystem access).
     *
     * @throws ParameterException naming the first offending parameter
     */
    void checkParameterSyntax(Map<String, ?> hvparams) throws ParameterException;

    /**
     * Node-side validation of a filled parameter dict (files exist, users exist …).
     *
     * @throws ParameterException naming the first offending parameter
     */
    void validateParameters(Map<String, ?> hvparams) throws ParameterException;

    /** Warnings about accepted but questionable parameter combinations. */
    List<String> assessParameters(Map<String, ?> hvparams);
}
