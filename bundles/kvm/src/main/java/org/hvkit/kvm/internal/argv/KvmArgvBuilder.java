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
    private final RuntimePaths paths;

    public KvmArgvBuilder(Path kvmBinary, RuntimePaths paths) {
        this.kvmBinary = kvmBinary;
        this.paths = paths;
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
        int version = saved == null ? DeviceLayout.CURRENT : saved.version();
        a.slots = LayoutArgs.of(a, saved);
        NotYetSupported.check(a);
        MachineArgs.render(a, kvmBinary);
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
