/**
 * The hypervisor SPI of hvkit: the {@link org.hvkit.hypervisor.Hypervisor} service that
 * hypervisor bundles register (keyed by the {@code hypervisor.type} service property), the
 * immutable instance model, Ganeti's parameter-check machinery and the instance JSON codec.
 *
 * <p>1.2 (additions and stricter validation): {@link org.hvkit.hypervisor.Instance#requireValidName}
 * and the name contract of {@link org.hvkit.hypervisor.Hypervisor};
 * {@link org.hvkit.hypervisor.Hypervisor#knownInstances}; {@link org.hvkit.hypervisor.InstanceState#UNRESPONSIVE};
 * {@link org.hvkit.hypervisor.CommandLinePreview#preview}; strict {@link org.hvkit.hypervisor.InstanceJson}
 * (unknown fields, control characters, unicast and unique MACs, normalized disk paths,
 * {@link org.hvkit.hypervisor.InstanceJson#MAX_BYTES}, {@link org.hvkit.hypervisor.InstanceJson#readFile});
 * {@link org.hvkit.hypervisor.ParameterChecks#fill} no longer coerces.
 *
 * <p>1.3 (additions): the optional {@link org.hvkit.hypervisor.InstanceStatistics} capability and its
 * {@link org.hvkit.hypervisor.InstanceStats} figures.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.3.0")
package org.hvkit.hypervisor;
