package org.hvkit.kvm.internal.process;

/**
 * A live QEMU process of an instance, as read from {@code /proc}.
 *
 * @param pid       its pid
 * @param memoryMiB {@code -m} of its command line
 * @param vcpus     {@code -smp} of its command line (the part before the first comma)
 */
public record QemuProcess(long pid, long memoryMiB, int vcpus) {
}
