package org.hvkit.metrics.internal;

/**
 * The management interface of {@code org.hvkit:type=Hypervisor,node="<node>",hvtype="<type>"}:
 * one hypervisor service (a node of one type). Failures reach a JMX client as JDK exceptions
 * it can always read: {@link IllegalArgumentException} for a bad or unknown instance name,
 * {@link IllegalStateException} when the hypervisor refused or failed.
 */
public interface HypervisorMXBean {

    /** The hypervisor type, e.g. {@code kvm}. */
    String getType();

    /** The node name. */
    String getNode();

    /** The names of the instances running on this node now, sorted. */
    String[] getInstances();

    /** How many instances run on this node now. */
    int getInstanceCount();

    /** A clean stop (ACPI powerdown for KVM), killed after the node's default stop timeout. */
    void stopInstance(String name);

    /** A soft reboot: a clean stop, then a start from the saved runtime on this node. */
    void rebootInstance(String name);
}
