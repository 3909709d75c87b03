package org.hvkit.kvm.internal.params;

import static org.hvkit.kvm.internal.params.KvmParameters.DISK_AIO;
import static org.hvkit.kvm.internal.params.KvmParameters.MACHINE_VERSION;
import static org.hvkit.kvm.internal.params.KvmParameters.str;

import java.util.Map;
import java.util.stream.Collectors;

import org.hvkit.hypervisor.ParameterException;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.caps.QmpFacts;

/**
 * The parameter checks that ask the node's QEMU binary, from its probed capabilities instead of
 * running it (Ganeti 3.x's {@code validate_machine_version} runs {@code kvm -machine ?}, and
 * Ganeti 3.1's {@code validate_disk_parameters} compares the version; both in
 * {@code lib/hypervisor/hv_kvm/validation.py}).
 */
public final class BinaryChecks {

    /** At most this many machine types are named in an error. */
    private static final int LISTED = 40;

    private BinaryChecks() {
    }

    public static void validate(Map<String, ?> hv, QemuCapabilities caps) throws ParameterException {
        machineVersion(hv, caps.qmp());
        diskAio(hv, caps);
    }

    /**
     * {@code machine_version} must be one of the binary's machine types or aliases. Without QMP
     * facts (QEMU before 1.2) QEMU itself refuses an unknown type at start.
     */
    private static void machineVersion(Map<String, ?> hv, QmpFacts facts) throws ParameterException {
        String machine = str(hv, MACHINE_VERSION);
        if (machine.isEmpty() || facts == null || facts.machines().isEmpty() || facts.hasMachine(machine)) {
            return;
        }
        String known = facts.machines().keySet().stream().limit(LISTED).collect(Collectors.joining(", "))
                + (facts.machines().size() > LISTED ? ", …" : "");
        throw new ParameterException(MACHINE_VERSION, "Unsupported machine version: " + machine
                + " (this QEMU has: " + known + ")");
    }

    /**
     * {@code disk_aio io_uring} (Ganeti 3.1): the binary must list it among its {@code aio=}
     * modes ({@code query-qmp-schema}: QEMU built with liburing); where that list is not known,
     * Ganeti's rule: QEMU 5.0 or later.
     */
    private static void diskAio(Map<String, ?> hv, QemuCapabilities caps) throws ParameterException {
        if (!"io_uring".equals(str(hv, DISK_AIO))) {
            return;
        }
        QmpFacts facts = caps.qmp();
        if (facts != null && !facts.aioModes().isEmpty()) {
            if (!facts.aioModes().contains("io_uring")) {
                throw new ParameterException(DISK_AIO, "disk_aio io_uring: this QEMU " + caps.major() + "."
                        + caps.minor() + " was built without io_uring; its aio modes: "
                        + String.join(", ", facts.aioModes()));
            }
        } else if (!caps.atLeast(5, 0)) {
            throw new ParameterException(DISK_AIO, "At least QEMU 5.0 required to use 'disk_aio=io_uring' (this is "
                    + caps.major() + "." + caps.minor() + ")");
        }
    }
}
