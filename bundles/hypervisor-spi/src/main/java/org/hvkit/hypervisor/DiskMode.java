package org.hvkit.hypervisor;

import java.util.Locale;

/** Access mode of a disk ({@code mode}: {@code rw} or {@code ro}). */
public enum DiskMode {
    RW, RO;

    /** Ganeti's spelling: {@code rw}, {@code ro}. */
    public String ganetiName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
