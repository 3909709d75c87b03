package org.hvkit.hypervisor;

/**
 * A hypervisor operation failed (Ganeti's {@code HypervisorError}). The message is meant for
 * operators: it names the instance, parameter or file concerned and, where it applies, what
 * would have been valid.
 */
public class HypervisorException extends Exception {
    private static final long serialVersionUID = 1L;

    public HypervisorException(String message) {
        super(message);
    }

    public HypervisorException(String message, Throwable cause) {
        super(message, cause);
    }
}
