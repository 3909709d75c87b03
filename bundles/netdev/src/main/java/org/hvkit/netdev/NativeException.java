package org.hvkit.netdev;

import java.io.IOException;

/** A system call failed; carries the errno and the operation that failed. */
public class NativeException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int errno;

    public NativeException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /** The errno value (e.g. 2 for ENOENT), 0 when the failure was not a system call error. */
    public int errno() {
        return errno;
    }
}
