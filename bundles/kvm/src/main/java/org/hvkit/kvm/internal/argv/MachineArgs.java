package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.ACCEL;
import static org.hvkit.kvm.internal.caps.QemuFeature.DISABLE_KVM;
import static org.hvkit.kvm.internal.caps.QemuFeature.ENABLE_KVM;
import static org.hvkit.kvm.internal.caps.QemuFeature.MACHINE;
import static org.hvkit.kvm.internal.caps.QemuFeature.NO_ACPI;
import static org.hvkit.kvm.internal.caps.QemuFeature.NO_KVM;
import static org.hvkit.kvm.internal.caps.QemuFeature.SMP_TOPOLOGY;
import static org.hvkit.kvm.internal.params.KvmParameters.ACPI;
import static org.hvkit.kvm.internal.params.KvmParameters.CPU_CORES;
import static org.hvkit.kvm.internal.params.KvmParameters.CPU_SOCKETS;
import static org.hvkit.kvm.internal.params.KvmParameters.CPU_THREADS;
import static org.hvkit.kvm.internal.params.KvmParameters.CPU_TYPE;
import static org.hvkit.kvm.internal.params.KvmParameters.KVM_FLAG;
import static org.hvkit.kvm.internal.params.KvmParameters.MACHINE_VERSION;
import static org.hvkit.kvm.internal.params.KvmParameters.REBOOT_BEHAVIOR;
import static org.hvkit.kvm.internal.params.KvmParameters.USER_SHUTDOWN;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.caps.QemuFeature;

/**
 * The process and the machine: binary, {@code -name}, memory, CPUs and their topology, pid
 * file, daemonizing, ACPI, what a guest reboot or shutdown does, the accelerator, the machine
 * type and the CPU model — each in the newest spelling the binary knows, the oldest only where
 * it must ({@code -no-acpi} vs {@code -machine acpi=off}; {@code -enable-kvm}, {@code -accel},
 * {@code -machine accel=}, {@code -no-kvm}; {@code -machine <type>} vs {@code -M <type>}).
 */
final class MachineArgs {

    private MachineArgs() {
    }

    /** @param kvmBinary the instance's binary ({@link KvmArgvBuilder#binary(Map)}) */
    static void render(Argv a, Path kvmBinary) throws HypervisorException {
        String name = a.instance.name();
        a.add(kvmBinary.toString(), "-name", QemuOpts.escape(name),
                "-m", Integer.toString(a.instance.beparams().memory()),
                "-smp", smp(a),
                "-pidfile", a.paths.pidFile(name).toString(), "-daemonize");
        if (!a.bool(ACPI)) {
            // -no-acpi is deprecated from QEMU 8.0 and removed in 9.0 (QEMU's docs/about/removed-features.rst);
            // the machine property acpi= exists since QEMU 5.0
            if (a.caps.has(NO_ACPI) && !a.caps.atLeast(8, 0)) {
                a.add("-no-acpi");
            } else {
                a.add("-machine", "acpi=off");
            }
        }
        if ("exit".equals(a.str(REBOOT_BEHAVIOR))) {
            a.add("-no-reboot");
        }
        if (a.bool(USER_SHUTDOWN)) {
            a.add("-no-shutdown");
        }
        accelerator(a);
        machineType(a);
        uuid(a);
        if (!a.str(CPU_TYPE).isEmpty()) {
            // the model and its feature flags are QEMU's own comma syntax; the syntax check allows names only
            a.add("-cpu", a.str(CPU_TYPE));
        }
    }

    /** vCPUs, then Ganeti 3.0's topology: {@code N[,cores=][,threads=][,sockets=]} (0 leaves it to QEMU). */
    private static String smp(Argv a) {
        StringBuilder smp = new StringBuilder(Integer.toString(a.instance.beparams().vcpus()));
        StringBuilder topology = new StringBuilder();
        for (String[] part : new String[][] {{CPU_CORES, "cores"}, {CPU_THREADS, "threads"}, {CPU_SOCKETS, "sockets"}}) {
            Object v = a.hv.get(part[0]);
            if (v instanceof Number && ((Number) v).longValue() > 0) {
                topology.append(',').append(part[1]).append('=').append(((Number) v).longValue());
            }
        }
        if (topology.length() > 0) {
            if (a.caps.has(SMP_TOPOLOGY)) {
                smp.append(topology);
            } else {
                a.warn("cpu_cores/cpu_threads/cpu_sockets: this QEMU's -smp takes no topology; its default applies");
            }
        }
        return smp.toString();
    }

    /** What {@code -uuid} takes (QEMU's {@code %08x-%04x-%04x-%04x-%012x}). */
    private static final java.util.regex.Pattern UUID_FORMAT = java.util.regex.Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    /**
     * The parameters with {@code machine_version} pinned: when it is empty and the binary said
     * over QMP which machine type is its default (e.g. {@code pc-i440fx-7.2} behind the alias
     * {@code pc}), that versioned type — Ganeti 3.0's {@code _GetDefaultMachineVersion}. The
     * saved runtime keeps it, so a reboot and a migration target (even one whose QEMU defaults to
     * a newer type) give the guest the same machine; a new start resolves it again.
     */
    static Map<String, Object> pinned(Map<String, Object> hv, QemuCapabilities caps) {
        Object set = hv.get(MACHINE_VERSION);
        if ((set != null && !set.toString().isEmpty()) || caps.qmp() == null
                || caps.qmp().defaultMachine().isEmpty()) {
            return hv;
        }
        Map<String, Object> out = new LinkedHashMap<>(hv);
        out.put(MACHINE_VERSION, caps.qmp().defaultMachine());
        return out;
    }

    /** Ganeti 3.0's {@code -uuid <instance uuid>}: the guest's SMBIOS system UUID, where the binary has it. */
    static void uuid(Argv a) throws HypervisorException {
        String uuid = a.instance.uuid();
        if (uuid.isEmpty() || !a.caps.has(QemuFeature.UUID)) {
            return;
        }
        if (!UUID_FORMAT.matcher(uuid).matches()) {
            throw new HypervisorException("Instance " + a.instance.name() + ": uuid must be a UUID"
                    + " (8-4-4-4-12 hexadecimal digits), got '"
                    + (uuid.length() > 40 ? uuid.substring(0, 40) + "…" : uuid).replaceAll("\\p{Cntrl}", "?") + "'");
        }
        a.add("-uuid", uuid);
    }

    /** {@code machine_version}: {@code -machine <type>} where the binary has it, else {@code -M <type>}. */
    private static void machineType(Argv a) {
        String type = a.str(MACHINE_VERSION);
        if (type.isEmpty()) {
            return;
        }
        if (a.caps.has(MACHINE)) {
            a.add("-machine", QemuOpts.escape(type));
        } else {
            a.add("-M", type);
        }
    }

    private static void accelerator(Argv a) {
        String flag = a.str(KVM_FLAG);
        if ("enabled".equals(flag)) {
            if (a.caps.has(ENABLE_KVM)) {
                a.add("-enable-kvm");
            } else if (a.caps.has(ACCEL)) {
                a.add("-accel", "kvm");
            } else if (a.caps.has(MACHINE)) {
                a.add("-machine", "accel=kvm");
            } else {
                a.warn("kvm_flag enabled: this QEMU has no option to request KVM; its default applies");
            }
        } else if ("disabled".equals(flag)) {
            if (a.caps.has(DISABLE_KVM)) {
                a.add("-disable-kvm");
            } else if (a.caps.has(ACCEL)) {
                a.add("-accel", "tcg");
            } else if (a.caps.has(MACHINE)) {
                a.add("-machine", "accel=tcg");
            } else if (a.caps.has(NO_KVM)) {
                a.add("-no-kvm");
            } else {
                a.warn("kvm_flag disabled: this QEMU has no option to refuse KVM; its default applies");
            }
        }
    }
}
