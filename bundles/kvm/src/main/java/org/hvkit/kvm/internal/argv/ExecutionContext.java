package org.hvkit.kvm.internal.argv;

import java.util.ArrayList;
import java.util.List;

import org.hvkit.kvm.internal.caps.QemuCapabilities;

/**
 * What execution adds to a saved runtime on this node (Ganeti's {@code _ExecuteKVMRuntime}).
 *
 * @param nicFds          for each NIC, the descriptor numbers its tap's queues have in the QEMU
 *                        child (one, or {@code virtio_net_queues})
 * @param control         the descriptor numbers of the listening monitor, QMP and serial sockets
 *                        hvkit binds and hands over; null where QEMU binds them itself at paths
 * @param poolUser        the user name of the pool uid ({@code security_model=pool}), else null
 * @param incomingAddress this node's address on a migration target, else null
 * @param startPaused     keep the guest stopped after start (QEMU with QMP always starts with
 *                        {@code -S}; the driver sends {@code cont} unless this is set)
 */
public record ExecutionContext(List<List<Integer>> nicFds, ControlFds control, String poolUser, String incomingAddress,
                               boolean startPaused) {

    /** The first descriptor number after stdin, stdout and stderr. */
    public static final int FIRST_CHILD_FD = 3;

    public ExecutionContext {
        nicFds = nicFds.stream().map(List::copyOf).toList();
    }

    /**
     * Listening sockets handed to QEMU.
     *
     * @param serial     the serial console's socket, -1 without a serial console
     * @param guestAgent the guest agent's socket ({@code use_guest_agent}), -1 without
     */
    public record ControlFds(int monitor, int qmp, int serial, int guestAgent) {
    }

    /** The tap descriptors' numbers: from 3, NIC after NIC, each NIC's {@code queues} in a row. */
    public static List<List<Integer>> nicFds(int nics, int queues) {
        if (queues < 1) {
            throw new IllegalArgumentException("a NIC has at least one queue, not " + queues);
        }
        List<List<Integer>> nicFds = new ArrayList<>();
        for (int i = 0; i < nics; i++) {
            List<Integer> fds = new ArrayList<>();
            for (int q = 0; q < queues; q++) {
                fds.add(FIRST_CHILD_FD + i * queues + q);
            }
            nicFds.add(List.copyOf(fds));
        }
        return nicFds;
    }

    /**
     * The descriptor layout every caller shares (launch, dry run, golden files): taps from 3 in
     * NIC order, each NIC's queues in a row, then the monitor, QMP, serial and guest agent
     * sockets where this QEMU takes descriptors.
     *
     * @param queues the queues of each NIC (1, or {@code virtio_net_queues})
     */
    public static ExecutionContext layout(int nics, int queues, boolean serialConsole, boolean guestAgent,
                                          QemuCapabilities caps, String poolUser, String incomingAddress,
                                          boolean startPaused) {
        List<List<Integer>> nicFds = nicFds(nics, queues);
        int next = FIRST_CHILD_FD + nics * queues;
        int serial = serialConsole ? next + 2 : -1;
        int agent = guestAgent ? next + (serialConsole ? 3 : 2) : -1;
        ControlFds control = caps.socketDescriptors() ? new ControlFds(next, next + 1, serial, agent) : null;
        return new ExecutionContext(nicFds, control, poolUser, incomingAddress, startPaused);
    }
}
