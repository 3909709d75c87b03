package org.hvkit.kvm.internal.network;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;

/**
 * Connects a NIC's tap to the host network (Ganeti's {@code _ConfigureNIC}; docs/ganeti-behaviour.md,
 * "The ifup contract").
 */
public interface NicConfigurator {

    /**
     * @param seq the NIC's index in the instance
     * @param tap the host tap interface
     * @throws HypervisorException "Failed to configure interface <tap>: …"
     */
    void configure(Instance instance, int seq, Nic nic, String tap) throws HypervisorException;
}
