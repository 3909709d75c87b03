package org.hvkit.kvm.internal.argv;

import java.util.ArrayList;
import java.util.List;

import org.hvkit.kvm.internal.caps.QemuCapabilities;

/**
 * What execution adds to a saved runtime on this node (Ganeti's {@code _ExecuteKVMRuntime}).
 *
 * @param nicFds          for each NIC, the descriptor number the tap has in the QEMU child
 * @param control         the descriptor numbers of the listening monitor, QMP and serial sockets
 *                        hvkit binds and hands over; null where QEMU binds them itself at paths
 * @param poolUser        the user name of the pool uid ({@code security_model=pool}), else null
 * @param incomingAddress this node's address on a migration target, else null
 * @param startPaused     keep the guest stopped after start (QEMU with QMP always starts with
 *                        {@code -S}; the driver sends {@code cont} unless this is set)
 */
public record ExecutionContext(List<Integer> nicFds, ControlFds control, String poolUser, String incomingAddress,
                               boolean startPaused) {

    /** The first descriptor number after stdin, stdout and stderr. */
    public static final int FIRST_CHILD_FD = 3;

    public ExecutionContext {
        nicFds = List.copyOf(nicFds);
    }

    /**
     * Listening sockets handed to QEMU.
     *
     * @param serial     the serial console's socket, -1 without a serial console
     * @param guestAgent the guest agent's socket ({@code use_guest_agent}), -1 without
     */
    public record ControlFds(int monitor, int qmp, int serial, int guestAgent) {
    }

    /**
     * The descriptor layout every caller shares (launch, dry run, golden files): taps from 3 in
     * NIC order, then the monitor, QMP, serial and guest agent sockets where this QEMU takes
     * descriptors.
     */
    public static ExecutionContext layout(int nics, boolean serialConsole, boolean guestAgent, QemuCapabilities caps,
                                          String poolUser, String incomingAddress, boolean startPaused) {
        List<Integer> nicFds = new ArrayList<>();
        for (int i = 0; i < nics; i++) {
            nicFds.add(FIRST_CHILD_FD + i);
        }
        int next = FIRST_CHILD_FD + nics;
        int serial = serialConsole ? next + 2 : -1;
        int agent = guestAgent ? next + (serialConsole ? 3 : 2) : -1;
        ControlFds control = caps.socketDescriptors() ? new ControlFds(next, next + 1, serial, agent) : null;
        return new ExecutionContext(nicFds, control, poolUser, incomingAddress, startPaused);
    }
}
