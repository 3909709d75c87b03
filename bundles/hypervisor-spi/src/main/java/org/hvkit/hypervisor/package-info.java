/**
 * The hypervisor SPI of hvkit: the {@link org.hvkit.hypervisor.Hypervisor} service that
 * hypervisor bundles register (keyed by the {@code hypervisor.type} service property), the
 * immutable instance model, Ganeti's parameter-check machinery and the instance JSON codec.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.hvkit.hypervisor;
