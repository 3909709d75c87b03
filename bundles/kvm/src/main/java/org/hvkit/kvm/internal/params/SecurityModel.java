package org.hvkit.kvm.internal.params;

import java.util.Locale;
import java.util.Map;

/** Ganeti's {@code security_model}: who QEMU runs as. */
public enum SecurityModel {
    /** As root (the daemon's user). */
    NONE,
    /** As {@code security_domain}. */
    USER,
    /** As a uid of its own from the node's uid pool. */
    POOL;

    /** The filled parameter's value; an unset one is {@link #NONE} (the syntax check refuses anything else). */
    public static SecurityModel of(Map<String, ?> hv) {
        String v = KvmParameters.str(hv, KvmParameters.SECURITY_MODEL);
        return v.isEmpty() ? NONE : valueOf(v.toUpperCase(Locale.ROOT));
    }
}
