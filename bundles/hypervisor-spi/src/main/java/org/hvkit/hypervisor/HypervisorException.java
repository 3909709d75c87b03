package org.hvkit.hypervisor;

import java.io.ObjectStreamException;

/**
 * A hypervisor operation failed (Ganeti's {@code HypervisorError}). The message is meant for
 * operators: it names the instance, parameter or file concerned and, where it applies, what
 * would have been valid.
 *
 * <p><b>Across a wire</b> (since 2.0) an exception travels as a plain {@code HypervisorException}
 * (a {@link ParameterException} as itself, with its parameter) with its message and stack trace;
 * a provider's own subclass becomes a plain one, and a cause that is not a
 * {@code HypervisorException} (an {@code IOException}, say) becomes one whose message is the
 * cause's class name and message. So a remote caller sees every message of the chain and never
 * needs a provider's or a library's classes.
 */
public class HypervisorException extends Exception {
    private static final long serialVersionUID = 1L;

    public HypervisorException(String message) {
        super(message);
    }

    public HypervisorException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * The form this exception is serialized in (see the class comment): SPI classes only.
     * Since 2.0.
     */
    protected Object writeReplace() throws ObjectStreamException {
        return portable(new HypervisorException(getMessage(), portableCause(getCause())), this);
    }

    /** {@code copy} with {@code original}'s stack trace. */
    static <T extends HypervisorException> T portable(T copy, Throwable original) {
        copy.setStackTrace(original.getStackTrace());
        return copy;
    }

    /** A cause as SPI classes: a {@code HypervisorException} (replaced in turn when written), or one naming it. */
    static Throwable portableCause(Throwable cause) {
        return portableCause(cause, 0);
    }

    /** Bounded: a chain deeper than {@value #MAX_CAUSES} (or a cycle) is cut there. */
    private static Throwable portableCause(Throwable cause, int depth) {
        if (cause == null || cause instanceof HypervisorException || depth >= MAX_CAUSES) {
            return depth >= MAX_CAUSES ? null : cause;
        }
        String message = cause.getMessage();
        return portable(new HypervisorException(cause.getClass().getName() + (message == null ? "" : ": " + message),
                portableCause(cause.getCause(), depth + 1)), cause);
    }

    private static final int MAX_CAUSES = 16;
}
