package org.hvkit.uidpool.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(
        id = UidPoolComponent.PID,
        name = "hvkit uid pool",
        description = "Ganeti's uid pool: the uids QEMU processes run under with security_model=pool.")
@interface UidPoolConfiguration {

    @AttributeDefinition(name = "Pool",
            description = "Uids in Ganeti's syntax: comma- or newline-separated items, each n or l-h (inclusive),"
                    + " within 0..4294967295, e.g. '4000-4019, 4100'. Pick uids no account uses.")
    String pool();

    @AttributeDefinition(name = "Lock directory",
            description = "Absolute path of the directory with one flock(2) lock file per taken uid. Share it with"
                    + " a Python Ganeti node (/var/run/ganeti/uid-pool) to keep both from handing out the same uid.")
    String lock_dir() default "/run/hvkit/uid-pool";
}
