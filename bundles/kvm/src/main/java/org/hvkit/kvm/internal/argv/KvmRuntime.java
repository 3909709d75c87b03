package org.hvkit.kvm.internal.argv;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.hvkit.hypervisor.Nic;

/**
 * Ganeti's "KVM runtime" (docs/ganeti-behaviour.md, "Runtime file format"): the command
 * produced by the generation phase, the NICs and the filled hvparams at start time, and the
 * device layout the command was generated with ({@link DeviceLayout}: its version and PCI
 * slots, which execution needs for the NICs). Saved before QEMU runs; execution adds taps,
 * {@code -runas} and {@code -incoming} without saving them.
 */
public record KvmRuntime(List<String> argv, List<Nic> nics, Map<String, Object> hvparams, DeviceLayout layout) {

    public KvmRuntime {
        argv = List.copyOf(argv);
        nics = List.copyOf(nics);
        hvparams = Collections.unmodifiableMap(new LinkedHashMap<>(hvparams));
        java.util.Objects.requireNonNull(layout, "layout");
    }

    /** A runtime of the {@link DeviceLayout#LEGACY} layout (what files without a layout hold). */
    public KvmRuntime(List<String> argv, List<Nic> nics, Map<String, Object> hvparams) {
        this(argv, nics, hvparams, DeviceLayout.legacy());
    }
}
