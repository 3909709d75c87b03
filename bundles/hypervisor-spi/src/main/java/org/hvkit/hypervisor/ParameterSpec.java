package org.hvkit.hypervisor;

import java.io.Serializable;
import java.util.Objects;

/**
 * One hypervisor parameter as a hypervisor declares it.
 *
 * @param name         Ganeti's parameter name, e.g. {@code kernel_path}
 * @param type         the value type
 * @param defaultValue the cluster default (may be null only for optional parameters)
 * @param check        Ganeti's descriptor
 * @param global       whether the parameter may only be set cluster-wide, never per instance
 * @param description  one line for operators ({@code hv:params})
 */
public record ParameterSpec(String name, ParameterType type, Object defaultValue, ParameterCheck check,
                            boolean global, String description) implements Serializable {

    private static final long serialVersionUID = 1L;

    public ParameterSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(check, "check");
        Objects.requireNonNull(description, "description");
        if (defaultValue != null && !type.accepts(defaultValue)) {
            throw new IllegalArgumentException("default of " + name + " is not a " + type.label() + ": " + defaultValue);
        }
    }

    public static ParameterSpec of(String name, ParameterType type, Object defaultValue, ParameterCheck check,
                                   String description) {
        return new ParameterSpec(name, type, defaultValue, check, false, description);
    }

    public static ParameterSpec global(String name, ParameterType type, Object defaultValue, ParameterCheck check,
                                       String description) {
        return new ParameterSpec(name, type, defaultValue, check, true, description);
    }
}
