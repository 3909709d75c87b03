package org.hvkit.hypervisor;

/**
 * Instance lifecycle events that hypervisor bundles publish with OSGi EventAdmin (Karaf's
 * {@code eventadmin} feature): the topic names and the property keys, so that a subscriber
 * (an {@code org.osgi.service.event.EventHandler} registered with
 * {@code event.topics=org/hvkit/instance/*}) needs no string of its own.
 *
 * <p>One event per fact: an instance that an administrator stops gives one {@link #STOPPED},
 * a QEMU that goes away on its own one {@link #CRASHED}, never both. A hypervisor that is
 * stopped or updated while its instances run publishes nothing for them (they did not stop);
 * its successor watches them again. Events are delivered asynchronously, in the order each
 * hypervisor posted them.
 *
 * <p>Device topics ({@code org/hvkit/instance/device/ADDED}, {@code .../REMOVED}) come with
 * hotplug; nothing publishes them yet.
 *
 * @since 1.4
 */
public final class InstanceEvents {

    private InstanceEvents() {
    }

    /** The prefix of every topic; subscribe to {@value #ALL} for all of them. */
    public static final String PREFIX = "org/hvkit/instance/";
    /** EventAdmin's wildcard for every instance topic. */
    public static final String ALL = PREFIX + "*";

    /** The instance's QEMU (or equivalent) was started by the hypervisor: a start, a reboot, a migration target taking over. */
    public static final String STARTED = PREFIX + "STARTED";
    /**
     * The instance went down and nobody has to be told it failed: an administrator's stop (clean
     * or forced), the stop half of a reboot, or a guest that powered itself off while the
     * instance does not keep its process for it ({@link #REASON_GUEST_POWEROFF}).
     */
    public static final String STOPPED = PREFIX + "STOPPED";
    /** The instance's process went away without an administrator asking: killed, or it died. */
    public static final String CRASHED = PREFIX + "CRASHED";
    /**
     * The guest powered itself off and its process stays (Ganeti's {@code user_shutdown}): the
     * instance is in state {@link InstanceState#SHUTDOWN} until it is cleaned up or started again.
     */
    public static final String SHUTDOWN_BY_GUEST = PREFIX + "SHUTDOWN_BY_GUEST";
    /** The guest's CPUs were stopped (QMP {@code STOP}, not as part of a shutdown or a migration). */
    public static final String PAUSED = PREFIX + "PAUSED";
    /** A paused guest runs again (QMP {@code RESUME}). */
    public static final String RESUMED = PREFIX + "RESUMED";
    /** A migration away from this node moves on; at most one per instance per second. */
    public static final String MIGRATION_PROGRESS = PREFIX + "migration/PROGRESS";
    /** A migration away from this node completed: the instance runs on the target. */
    public static final String MIGRATION_COMPLETED = PREFIX + "migration/COMPLETED";
    /** A migration away from this node failed; the instance stays here (see {@link #REASON}). */
    public static final String MIGRATION_FAILED = PREFIX + "migration/FAILED";

    /** A device was hot-plugged into the running guest (see {@link #DEVICE}, {@link #MAC}). */
    public static final String DEVICE_ADDED = PREFIX + "device/ADDED";
    /** A hot-plugged or command-line device of the running guest was unplugged. */
    public static final String DEVICE_REMOVED = PREFIX + "device/REMOVED";
    /** The host side of a running guest's device changed (a NIC moved to another link or mode). */
    public static final String DEVICE_MODIFIED = PREFIX + "device/MODIFIED";

    /** Property: the instance name (String). */
    public static final String INSTANCE = "instance";
    /** Property: the node that publishes (String, the hypervisor's {@code hypervisor.node}). */
    public static final String NODE = "node";
    /** Property: the hypervisor type (String, e.g. {@code kvm}). */
    public static final String TYPE = "type";
    /** Property: the process id of the instance's QEMU (Long). */
    public static final String PID = "pid";
    /** Property: why, in words a script can match (String; the {@code REASON_} constants, or QEMU's own). */
    public static final String REASON = "reason";
    /** Property: when the fact was noticed, milliseconds since the epoch (Long; EventAdmin's {@code timestamp}). */
    public static final String TIMESTAMP = "timestamp";
    /** Property of migration events: the target address (String). */
    public static final String TARGET = "target";
    /** Property of migration events: bytes transferred so far (Long). */
    public static final String TRANSFERRED = "transferred";
    /** Property of migration events: bytes of guest memory in all (Long). */
    public static final String TOTAL = "total";
    /** Property of device events: the kind of device ({@code nic} or {@code disk}) (String). */
    public static final String DEVICE = "device";
    /** Property of NIC device events: the NIC's MAC address (String). */
    public static final String MAC = "mac";
    /** Property of NIC device events: what the NIC is connected to, e.g. {@code bridged br0} (String). */
    public static final String LINK = "link";
    /** Property of disk device events: the disk's {@code devPath} (String). Since 2.1. */
    public static final String PATH = "path";
    /** Property of migration events: the phase ({@code pre-copy}, {@code post-copy} …) when known (String). */
    public static final String PHASE = "phase";

    /** Reason: an ordinary start. */
    public static final String REASON_START = "start";
    /** Reason: a start with the CPUs stopped. */
    public static final String REASON_START_PAUSED = "start-paused";
    /** Reason: the stop or the start half of an administrator's reboot. */
    public static final String REASON_REBOOT = "reboot";
    /** Reason: a migration target took the instance over. */
    public static final String REASON_MIGRATION = "migration";
    /** Reason: an administrator's clean stop (ACPI powerdown, then a kill at the deadline). */
    public static final String REASON_ADMIN_STOP = "admin-stop";
    /** Reason: an administrator's forced stop, or a start replacing a process left by the guest's shutdown. */
    public static final String REASON_ADMIN_KILL = "admin-kill";
    /** Reason: the guest powered off and its process ended with it (no {@code user_shutdown}). */
    public static final String REASON_GUEST_POWEROFF = "guest-poweroff";
    /** Reason of {@link #CRASHED}: the process closed its monitor without a shutdown first (killed, or died). */
    public static final String REASON_PROCESS_GONE = "process-gone";
}
