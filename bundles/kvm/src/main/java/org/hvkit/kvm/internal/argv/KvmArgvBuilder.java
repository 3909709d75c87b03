package org.hvkit.kvm.internal.argv;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.runtime.RuntimePaths;

/**
 * Turns an instance into QEMU's argv — a pure function of its inputs, no I/O (libvirt's
 * {@code qemu_command.c} is the model): small renderers, each owning one concern, append their
 * options in a fixed order. {@link #generate} is Ganeti's {@code _GenerateKVMRuntime}
 * ({@code lib/hypervisor/hv_kvm/__init__.py}), saved as the runtime; {@link #renderForNode}
 * adds what only the executing node knows (Ganeti's {@code _ExecuteKVMRuntime}). Old syntax is
 * produced only where the binary's capabilities need it, new syntax only where it has it.
 */
public final class KvmArgvBuilder {

    /** See {@link DriveArgs#CACHE_NONE_TEMPLATES}. */
    public static final Set<String> CACHE_NONE_TEMPLATES = DriveArgs.CACHE_NONE_TEMPLATES;

    private final Path kvmBinary;
    private final Set<Path> otherBinaries;
    private final RuntimePaths paths;
    private final SpiceNode spice;

    /** A builder for a node that runs only its own binary ({@code kvm.path}). */
    public KvmArgvBuilder(Path kvmBinary, RuntimePaths paths) {
        this(kvmBinary, Set.of(), paths);
    }

    /**
     * A builder for a node whose operator also allows {@code otherBinaries} as an instance's
     * {@code kvm_path} (the node configuration's {@code kvm.allowed.paths}).
     */
    public KvmArgvBuilder(Path kvmBinary, Set<Path> otherBinaries, RuntimePaths paths) {
        this(kvmBinary, otherBinaries, paths, SpiceNode.SYSTEM);
    }

    /** A builder that renders SPICE with the node's certificates and interface lookup. */
    public KvmArgvBuilder(Path kvmBinary, Set<Path> otherBinaries, RuntimePaths paths, SpiceNode spice) {
        this.kvmBinary = kvmBinary;
        this.otherBinaries = Set.copyOf(otherBinaries);
        this.paths = paths;
        this.spice = spice;
    }

    /**
     * The QEMU binary an instance runs: the node's ({@code kvm.path}) when {@code kvm_path} is
     * empty, else {@code kvm_path} itself, which must be the node's binary or one the operator
     * allowed ({@code kvm.allowed.paths}) — Ganeti 3.0 runs any file an instance names; a
     * binary hvkit starts as root is the operator's choice, never an instance's.
     *
     * @throws HypervisorException naming {@code kvm_path} and the binaries this node allows
     */
    public Path binary(Map<String, ?> hv) throws HypervisorException {
        Object v = hv.get(KvmParameters.KVM_PATH);
        String wanted = v == null ? "" : v.toString();
        return wanted.isEmpty() ? kvmBinary : allowed(wanted, "kvm_path " + wanted);
    }

    /**
     * The binary a saved runtime runs (its first element): hostile input like the whole file,
     * so it must be one this node allows now.
     */
    public Path binary(KvmRuntime runtime) throws HypervisorException {
        String first = runtime.argv().isEmpty() ? "" : runtime.argv().get(0);
        return allowed(first, "The saved runtime's QEMU binary " + first);
    }

    private Path allowed(String wanted, String what) throws HypervisorException {
        Path p = Path.of(wanted);
        if (p.equals(kvmBinary) || otherBinaries.contains(p)) {
            return p;
        }
        throw new HypervisorException(what + " is not a QEMU binary this node allows: the node's kvm.path "
                + kvmBinary + (otherBinaries.isEmpty() ? " (kvm.allowed.paths is empty)"
                        : " or one of kvm.allowed.paths " + new java.util.TreeSet<>(otherBinaries))
                + "; leave kvm_path empty or have the operator add the binary to kvm.allowed.paths");
    }

    /** The saved runtime and the warnings generation produced (e.g. the cache override). */
    public record Generated(KvmRuntime runtime, List<String> warnings) {
    }

    /**
     * The saved part, with hvkit's fixes to Ganeti's: no boot flags with a kernel (Ganeti #286),
     * {@code boot=on} only for binaries that know it, no virtio cdrom, no VNC suffixes on an
     * invalid display, every option value escaped.
     *
     * @param hv the filled hvparams
     */
    public Generated generate(Instance instance, Map<String, Object> hv, QemuCapabilities caps)
            throws HypervisorException {
        return generate(instance, hv, caps, null);
    }

    /**
     * {@link #generate(Instance, Map, QemuCapabilities)} in a given device layout: {@code saved}
     * is the layout of the runtime the guest runs with (a migration target renders what its
     * source runs, a {@link DeviceLayout#LEGACY} runtime stays legacy, saved slots stay where
     * they are); null for a new start, which gets {@link DeviceLayout#CURRENT}.
     */
    public Generated generate(Instance instance, Map<String, Object> hv, QemuCapabilities caps, DeviceLayout saved)
            throws HypervisorException {
        hv = MachineArgs.pinned(hv, caps);
        Argv a = new Argv(instance, hv, caps, paths, List.of());
        a.spice = spice;
        int version = saved == null ? DeviceLayout.CURRENT : saved.version();
        a.slots = LayoutArgs.of(a, saved);
        NotYetSupported.check(a);
        MachineArgs.render(a, binary(hv));
        BootOrder boot = BootOrder.of(a);
        boot.renderNetwork(a);
        DriveArgs.render(a, boot);
        LayoutArgs.nics(a);
        GuestArgs.kernel(a, boot);
        GuestArgs.memory(a);
        DisplayArgs.render(a);
        PeripheralArgs.render(a);
        LayoutArgs.balloon(a, version);
        // the monitor, QMP, serial and guest agent sockets belong to the node (descriptors it binds)
        ConsoleArgs.serialNone(a);
        GuestArgs.clock(a);
        SecurityArgs.chroot(a);
        // Ganeti 3.0's escape hatch, last, as it is: hvkit neither checks nor escapes it (assess warns)
        KvmParameters.kvmExtra(hv).forEach(a::add);
        DeviceLayout layout = new DeviceLayout(version, a.slots == null ? Map.of() : a.slots.assigned());
        return new Generated(new KvmRuntime(a.args(), instance.nics(), new LinkedHashMap<>(hv), layout), a.warnings());
    }

    /**
     * The saved command plus what this node adds: the monitor, QMP and serial sockets, QEMU's
     * log ({@code -D}, layout {@link DeviceLayout#SLOTTED}),
     * {@code -runas}/{@code -run-with}, the NICs on the given descriptor numbers,
     * {@code -incoming}, {@code -S}.
     *
     * @param confHv the parameters configured now (security, chroot creation); the saved ones
     *               win for everything the guest can see
     */
    public List<String> renderForNode(KvmRuntime runtime, Map<String, Object> confHv, QemuCapabilities caps,
                                      ExecutionContext ctx) throws HypervisorException {
        Map<String, Object> up = new LinkedHashMap<>(confHv);
        up.putAll(runtime.hvparams());
        String name = argAfter(runtime.argv(), "-name");
        Argv a = new Argv(null, up, caps, paths, runtime.argv());
        ConsoleArgs.sockets(a, name, ctx.control());
        String chroot = SecurityArgs.beforeNics(a, name, confHv);
        NicArgs.render(a, runtime.nics(), ctx.nicFds(), runtime.layout().pciSlots());
        LayoutArgs.qemuLog(a, name, runtime.layout());
        NicArgs.startMode(a, ctx);
        SecurityArgs.pool(a, confHv, ctx.poolUser(), chroot);
        return a.args();
    }

    static String argAfter(List<String> argv, String option) {
        int i = argv.indexOf(option);
        if (i < 0 || i + 1 >= argv.size()) {
            throw new IllegalArgumentException("the saved command has no " + option);
        }
        return argv.get(i + 1);
    }
}
