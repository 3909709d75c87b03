/**
 * Ganeti's uid pool: the pool syntax ({@link org.hvkit.uidpool.UidRanges}) and the
 * {@link org.hvkit.uidpool.UidPool} service that reserves uids no process runs under, so that
 * with {@code security_model=pool} every QEMU process gets a uid of its own.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.hvkit.uidpool;
