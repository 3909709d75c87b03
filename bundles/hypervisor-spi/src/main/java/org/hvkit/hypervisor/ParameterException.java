package org.hvkit.hypervisor;

import java.io.ObjectStreamException;
import java.util.Objects;

/** A hypervisor parameter (or an instance field) is unknown, missing or has a bad value. */
public class ParameterException extends HypervisorException {
    private static final long serialVersionUID = 1L;

    private final String parameter;

    public ParameterException(String parameter, String message) {
        super(message);
        this.parameter = Objects.requireNonNull(parameter, "parameter");
    }

    /** The name of the offending parameter (or the path of the offending field, e.g. {@code nics[0].mac}). */
    public String parameter() {
        return parameter;
    }

    /** Serialized as a {@code ParameterException} with its parameter, message and stack trace. Since 2.0. */
    @Override
    protected Object writeReplace() throws ObjectStreamException {
        ParameterException copy = new ParameterException(parameter, getMessage());
        Throwable cause = portableCause(getCause());
        if (cause != null) {
            copy.initCause(cause);
        }
        return portable(copy, this);
    }
}
