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
 * <p>1.3 (additions): {@link org.hvkit.hypervisor.MigrationStatus#downtimeMillis} and
 * {@link org.hvkit.hypervisor.MigrationStatus#completedAt}, the figures of a completed migration,
 * and {@link org.hvkit.hypervisor.MigrationStatus#phase}, {@code dirtyPagesRate}, {@code expectedDowntimeMillis}; for
 * Ganeti 3.0's KVM parameters {@link org.hvkit.hypervisor.ParameterCheck#OPT_FILE_OR_URL_CHECK},
 * {@link org.hvkit.hypervisor.ParameterCheck#OPT_NONNEGATIVE_INT_CHECK},
 * {@link org.hvkit.hypervisor.ParameterCheck#OPT_VIRTIO_NET_QUEUES_CHECK},
 * {@link org.hvkit.hypervisor.ParameterCheck#OPT_MULTI_CPU_MASK_CHECK},
 * {@link org.hvkit.hypervisor.ParameterCheck#isUrl} and {@link org.hvkit.hypervisor.CpuMasks}; the
 * optional {@link org.hvkit.hypervisor.InstanceStatistics} capability and its
 * {@link org.hvkit.hypervisor.InstanceStats} figures.
 *
 * <p>2.0 (breaking: a remotable SPI, issue #16): {@link org.hvkit.hypervisor.Hypervisor#instanceInfo}
 * and {@link org.hvkit.hypervisor.Hypervisor#runningInstance} answer {@code null} instead of an
 * empty {@code Optional}; every model type a {@code Hypervisor} method takes or returns is
 * {@link java.io.Serializable} (records with a {@code serialVersionUID}; a
 * {@link org.hvkit.hypervisor.ParameterCheck} travels as data, never as code); a
 * {@link org.hvkit.hypervisor.HypervisorException} is written with SPI classes only, its causes'
 * messages kept; {@link org.hvkit.hypervisor.Hypervisor#FACADE_PROPERTY} marks the export facades
 * that local consumers ignore. Consumers import {@code [2.0,3)}. Added in 2.0 too:
 * {@link org.hvkit.hypervisor.Hypervisor#balloonInstanceMemory}, Ganeti's
 * {@code BalloonInstanceMemory}, and NIC hotplug ({@link org.hvkit.hypervisor.Hypervisor#checkHotplugSupport},
 * {@link org.hvkit.hypervisor.Hypervisor#hotAddNic}, {@link org.hvkit.hypervisor.Hypervisor#hotModifyNic},
 * {@link org.hvkit.hypervisor.Hypervisor#hotRemoveNic}, Ganeti's {@code HotplugSupported}/{@code HotAddDevice}/
 * {@code HotModDevice}/{@code HotDelDevice}): default methods that refuse; and
 * {@link org.hvkit.hypervisor.InstanceEvents}, the EventAdmin topics and property keys of
 * instance lifecycle events.
 *
 * <p>2.1 (additions): disk hotplug, {@link org.hvkit.hypervisor.Hypervisor#hotAddDisk} and
 * {@link org.hvkit.hypervisor.Hypervisor#hotRemoveDisk} (Ganeti's {@code HotAddDevice}/{@code HotDelDevice}
 * for disks; a disk is known by its {@code devPath}), default methods that refuse; and
 * {@link org.hvkit.hypervisor.InstanceEvents#PATH}, the disk of a device event. Providers import
 * {@code [2.1,2.2)}; consumers that call the new methods {@code [2.1,3)}.
 *
 * <p>2.2 (additions, issue #17): the last migration's figures,
 * {@link org.hvkit.hypervisor.InstanceStats#lastMigration} ({@link org.hvkit.hypervisor.InstanceStats.LastMigration});
 * {@link org.hvkit.hypervisor.MigrationInfo#sourceStatus}, the source's final status that
 * {@link org.hvkit.hypervisor.MigrationCoordinator} hands to the target's finalize. The earlier
 * constructors of both records remain. Providers import {@code [2.2,2.3)}.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("2.2.0")
package org.hvkit.hypervisor;
