package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.QMP;
import static org.hvkit.kvm.internal.params.KvmParameters.CPU_MASK;
import static org.hvkit.kvm.internal.params.KvmParameters.MIGRATION_CAPS;

import java.util.List;

import org.hvkit.hypervisor.CpuMasks;
import org.hvkit.hypervisor.HypervisorException;

/**
 * Ganeti 3.0 parameters whose values hvkit checks fully but cannot honour yet: a start with such
 * a value is refused, never run with the value silently ignored. Each refusal names the
 * parameter, the value and what works instead. Also the checks of values hvkit honours only
 * where this QEMU can ({@code cpu_mask} needs QMP, {@code virtio_net_queues} {@code fds=}).
 */
final class NotYetSupported {

    private NotYetSupported() {
    }

    static void check(Argv a) throws HypervisorException {
        cpuMask(a);
        NicArgs.checkQueues(a);
        if (!a.str(MIGRATION_CAPS).isEmpty() && !a.caps.has(QMP)) {
            refuse(MIGRATION_CAPS, a.str(MIGRATION_CAPS),
                    "migration capabilities are set over QMP, and this QEMU has none; leave it empty");
        }
    }

    /**
     * {@code cpu_mask}: the number of masks must fit the vCPUs (one for all, or one each; Ganeti's
     * {@code _ExecuteCpuAffinity}), and anything but {@code all} needs QMP, where the launcher
     * finds the vCPU threads to pin ({@code process.CpuPinning}; Ganeti used HMP's {@code info cpus}).
     */
    private static void cpuMask(Argv a) throws HypervisorException {
        String mask = a.str(CPU_MASK);
        if (mask.isEmpty() || CpuMasks.ALL_TEXT.equals(mask)) {
            return;
        }
        List<List<Integer>> masks = CpuMasks.parseMulti(mask);
        int vcpus = a.instance.beparams().vcpus();
        if (masks.size() > 1 && masks.size() != vcpus) {
            throw new HypervisorException("cpu_mask " + mask + " has " + masks.size() + " masks but the instance has "
                    + vcpus + " vCPUs: give one mask for all vCPUs or one per vCPU");
        }
        if (!a.caps.has(QMP)) {
            refuse(CPU_MASK, mask, "pinning needs QMP to find the vCPU threads, and this QEMU has none; set it to all");
        }
    }

    private static void refuse(String parameter, Object value, String what) throws HypervisorException {
        throw new HypervisorException(parameter + " " + value + ": " + what);
    }
}
