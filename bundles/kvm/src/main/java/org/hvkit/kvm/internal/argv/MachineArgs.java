package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.ACCEL;
import static org.hvkit.kvm.internal.caps.QemuFeature.DISABLE_KVM;
import static org.hvkit.kvm.internal.caps.QemuFeature.ENABLE_KVM;
import static org.hvkit.kvm.internal.caps.QemuFeature.MACHINE;
import static org.hvkit.kvm.internal.caps.QemuFeature.NO_ACPI;
import static org.hvkit.kvm.internal.caps.QemuFeature.NO_KVM;
import static org.hvkit.kvm.internal.params.KvmParameters.ACPI;
import static org.hvkit.kvm.internal.params.KvmParameters.KVM_FLAG;

import java.nio.file.Path;

/**
 * The process and the machine: binary, {@code -name}, memory, CPUs, pid file, daemonizing,
 * ACPI and the accelerator — each in the newest spelling the binary knows, the oldest only
 * where it must ({@code -no-acpi} vs {@code -machine acpi=off}; {@code -enable-kvm},
 * {@code -accel}, {@code -machine accel=}, {@code -no-kvm}).
 */
final class MachineArgs {

    private MachineArgs() {
    }

    static void render(Argv a, Path kvmBinary) {
        String name = a.instance.name();
        a.add(kvmBinary.toString(), "-name", QemuOpts.escape(name),
                "-m", Integer.toString(a.instance.beparams().memory()),
                "-smp", Integer.toString(a.instance.beparams().vcpus()),
                "-pidfile", a.paths.pidFile(name).toString(), "-daemonize");
        if (!a.bool(ACPI)) {
            if (a.caps.has(NO_ACPI)) {
                a.add("-no-acpi");
            } else {
                a.add("-machine", "acpi=off");
            }
        }
        accelerator(a);
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
