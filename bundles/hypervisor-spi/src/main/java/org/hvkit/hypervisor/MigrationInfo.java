package org.hvkit.hypervisor;

import java.io.Serializable;
import java.util.Objects;

/**
 * What the source of a migration hands to the target: opaque to everyone but the hypervisor
 * type that produced it (for KVM, the saved runtime).
 *
 * @param data         the opaque text
 * @param sourceStatus the source's final status of a completed migration, which
 *                     {@link MigrationCoordinator} hands to the target's
 *                     {@link Hypervisor#finalizeMigration} so that the target can report the
 *                     migration's figures (downtime, bytes) for the instance it now runs, as
 *                     libvirt hands a destination the completed job's statistics; null before the
 *                     migration, or when the source could not tell (since 2.2). A peer of an older
 *                     SPI reads such an info without it (records deserialize by component name).
 */
public record MigrationInfo(String data, MigrationStatus sourceStatus) implements Serializable {

    private static final long serialVersionUID = 1L;

    public MigrationInfo {
        Objects.requireNonNull(data, "data");
    }

    /** An info without the source's status: what a source hands over before the migration (the 1.0 constructor). */
    public MigrationInfo(String data) {
        this(data, null);
    }

    /** This info with the source's final status of the migration (since 2.2). */
    public MigrationInfo withSourceStatus(MigrationStatus status) {
        return new MigrationInfo(data, status);
    }
}
