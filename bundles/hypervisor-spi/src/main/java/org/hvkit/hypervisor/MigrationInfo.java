package org.hvkit.hypervisor;

import java.io.Serializable;
import java.util.Objects;

/**
 * What the source of a migration hands to the target: opaque to everyone but the hypervisor
 * type that produced it (for KVM, the saved runtime).
 *
 * @param data the opaque text
 */
public record MigrationInfo(String data) implements Serializable {

    private static final long serialVersionUID = 1L;

    public MigrationInfo {
        Objects.requireNonNull(data, "data");
    }
}
