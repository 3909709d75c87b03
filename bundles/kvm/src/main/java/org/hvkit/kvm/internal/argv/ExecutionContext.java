package org.hvkit.kvm.internal.argv;

import java.util.List;

/**
 * What execution adds to a saved runtime on this node (SPEC c.2).
 *
 * @param nicFds          for each NIC, the descriptor number the tap has in the QEMU child
 * @param poolUser        the user name of the pool uid ({@code security_model=pool}), else null
 * @param incomingAddress this node's address on a migration target, else null
 * @param startPaused     keep the guest stopped after start (QEMU with QMP always starts with
 *                        {@code -S}; the driver sends {@code cont} unless this is set)
 */
public record ExecutionContext(List<Integer> nicFds, String poolUser, String incomingAddress, boolean startPaused) {

    public ExecutionContext {
        nicFds = List.copyOf(nicFds);
    }
}
