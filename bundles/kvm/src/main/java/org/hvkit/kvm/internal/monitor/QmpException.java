package org.hvkit.kvm.internal.monitor;

import org.hvkit.hypervisor.HypervisorException;

/** A QMP command failed (QEMU's {@code error.class} and {@code error.desc}), or the connection did. */
public class QmpException extends HypervisorException {
    private static final long serialVersionUID = 1L;

    private final String errorClass;

    public QmpException(String message, String errorClass) {
        super(message);
        this.errorClass = errorClass;
    }

    public QmpException(String message, Throwable cause) {
        super(message, cause);
        this.errorClass = null;
    }

    /** QEMU's error class (e.g. {@code GenericError}), null for connection failures. */
    public String errorClass() {
        return errorClass;
    }
}
