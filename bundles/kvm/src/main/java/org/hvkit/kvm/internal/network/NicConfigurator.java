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

    /**
     * Takes back what {@link #configure} did for {@code nic} on {@code tap}, so that the tap can be
     * configured for another NIC definition (a hot modification). The default does nothing: an
     * ifup script has no counterpart (Ganeti's {@code HotModDevice} runs ifup again).
     */
    default void unconfigure(Instance instance, int seq, Nic nic, String tap) throws HypervisorException {
    }
}
