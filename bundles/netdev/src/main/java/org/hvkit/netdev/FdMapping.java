package org.hvkit.netdev;

import java.util.Objects;

/**
 * "The child gets {@code fd} as descriptor number {@code childFd}". Numbers 0-2 are the
 * child's stdin/stdout/stderr and cannot be mapped.
 */
public record FdMapping(NativeFd fd, int childFd) {

    public FdMapping {
        Objects.requireNonNull(fd, "fd");
        if (childFd < 3) {
            throw new IllegalArgumentException("child descriptor numbers start at 3, got " + childFd);
        }
    }
}
