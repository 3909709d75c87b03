package org.hvkit.kvm.internal.argv;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.hvkit.hypervisor.Instance;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.runtime.RuntimePaths;

/**
 * What one rendering step reads — the instance, its filled hvparams, the binary's capabilities,
 * the runtime paths — and where it writes: the argv so far and the warnings. Each renderer
 * (libvirt's {@code qemuBuild*CommandLine} sequence) appends its options in turn.
 */
final class Argv {

    final Instance instance;
    final Map<String, Object> hv;
    final QemuCapabilities caps;
    final RuntimePaths paths;
    /** The PCI slots of the {@link DeviceLayout#SLOTTED} layout, null where QEMU places the devices itself. */
    PciSlots slots;
    /** The node's SPICE certificates and interfaces. */
    SpiceNode spice = SpiceNode.SYSTEM;
    private final List<String> args;
    private final List<String> warnings = new ArrayList<>();

    Argv(Instance instance, Map<String, Object> hv, QemuCapabilities caps, RuntimePaths paths, List<String> start) {
        this.instance = instance;
        this.hv = hv;
        this.caps = caps;
        this.paths = paths;
        this.args = new ArrayList<>(start);
    }

    void add(String... values) {
        Collections.addAll(args, values);
    }

    void warn(String warning) {
        warnings.add(warning);
    }

    String str(String key) {
        return KvmParameters.str(hv, key);
    }

    boolean bool(String key) {
        return KvmParameters.bool(hv, key);
    }

    List<String> args() {
        return args;
    }

    List<String> warnings() {
        return warnings;
    }
}
