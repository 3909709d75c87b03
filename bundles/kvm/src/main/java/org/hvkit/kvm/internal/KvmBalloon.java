package org.hvkit.kvm.internal;

import java.util.Map;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.monitor.QmpException;
import org.hvkit.kvm.internal.process.QemuProcess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ganeti's {@code BalloonInstanceMemory} ({@code lib/hypervisor/hv_kvm/__init__.py}, QMP
 * {@code balloon} through its {@code SetBalloonMemory}) with bounds Ganeti leaves to its
 * callers: the target lies within {@link #MIN_MIB} and the memory the guest runs with
 * ({@code -m}), else nothing is sent. The guest needs the virtio balloon device, which
 * instances of device layout 2 have (argv {@code DeviceLayout}); one started by an older hvkit
 * gets it at its next start. Runs under the instance's lock, like every other change.
 */
final class KvmBalloon {

    private static final Logger LOG = LoggerFactory.getLogger(KvmBalloon.class);
    /** The least hvkit lets a guest keep: below this a Linux guest's kernel and init run out of memory. */
    static final int MIN_MIB = 32;
    private static final long MIB = 1L << 20;

    private final KvmInstances core;

    KvmBalloon(KvmInstances core) {
        this.core = core;
    }

    void balloon(String name, int targetMiB) throws HypervisorException {
        try (KvmInstances.Operation op = core.begin(name, "balloon")) {
            QemuProcess p = core.alive(name).orElseThrow(() -> new HypervisorException(
                    "Cannot balloon the memory of instance " + name + ": not running"));
            long memory = p.memoryMiB();
            if (targetMiB > memory || targetMiB < MIN_MIB) {
                throw new HypervisorException("Cannot balloon the memory of instance " + name + " to " + targetMiB
                        + " MiB: " + (targetMiB > memory ? "above its memory of " + memory + " MiB (-m; the balloon"
                        + " can only give memory back)" : "below " + MIN_MIB + " MiB, the least hvkit leaves a guest")
                        + "; allowed: " + MIN_MIB + ".." + memory + " MiB");
            }
            core.onMonitor(name, p.pid(), qmp -> {
                try {
                    qmp.execute("balloon", Map.of("value", targetMiB * MIB));
                } catch (QmpException e) {
                    if ("DeviceNotActive".equals(e.errorClass())) {
                        throw new HypervisorException("Cannot balloon the memory of instance " + name
                                + ": its guest has no balloon device (it was started by an hvkit without one, device"
                                + " layout 1); it gets one at its next start (a stop and a start, not a reboot)", e);
                    }
                    throw e;
                }
                return null;
            });
            LOG.info("Instance {}: balloon target {} MiB of {} MiB", name, targetMiB, memory);
        }
    }
}
