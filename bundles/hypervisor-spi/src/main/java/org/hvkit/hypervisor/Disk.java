package org.hvkit.hypervisor;

import java.io.Serializable;
import java.util.Objects;

/**
 * A disk of an instance, as the node backend hands it to the hypervisor.
 *
 * @param devPath the node-local block device or image path (Ganeti: the
 *                {@code instance-disks/<name>:<idx>} symlink)
 * @param mode    read-write or read-only
 * @param sizeMiB the size in MiB (informational; 0 when unknown)
 */
public record Disk(String devPath, DiskMode mode, long sizeMiB) implements Serializable {

    private static final long serialVersionUID = 1L;

    public Disk {
        Objects.requireNonNull(devPath, "devPath");
        Objects.requireNonNull(mode, "mode");
        if (sizeMiB < 0) {
            throw new IllegalArgumentException("disk size must not be negative: " + sizeMiB);
        }
    }
}
