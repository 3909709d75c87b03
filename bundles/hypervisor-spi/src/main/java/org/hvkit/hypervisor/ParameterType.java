package org.hvkit.hypervisor;

import java.util.Locale;

/**
 * The value type of a hypervisor parameter. Ganeti's master coerces values to these types when
 * parameters are set; {@link #coerce} does the same for values that arrive as text (Karaf
 * configuration, shell options).
 */
public enum ParameterType {
    STRING("string"),
    BOOL("bool"),
    INT("int");

    private final String label;

    ParameterType(String label) {
        this.label = label;
    }

    /** Ganeti's name of the type ({@code string}, {@code bool}, {@code int}). */
    public String label() {
        return label;
    }

    /** Whether {@code value} (not null) already has this type. */
    public boolean accepts(Object value) {
        switch (this) {
            case STRING: return value instanceof String;
            case BOOL: return value instanceof Boolean;
            case INT: return value instanceof Integer || value instanceof Long;
            default: throw new AssertionError(this);
        }
    }

    /**
     * Converts {@code value} to this type: values of the right type pass unchanged, text is
     * parsed ({@code true/false/yes/no/on/off/1/0} for bool, decimal for int), null stays null.
     *
     * @throws ParameterException naming {@code name} when the value cannot be converted
     */
    public Object coerce(String name, Object value) throws ParameterException {
        if (value == null || accepts(value)) {
            return value;
        }
        switch (this) {
            case STRING:
                if (value instanceof Number || value instanceof Boolean) {
                    return value.toString();
                }
                break;
            case BOOL:
                if (value instanceof String) {
                    switch (((String) value).trim().toLowerCase(Locale.ROOT)) {
                        case "true": case "yes": case "on": case "1": return Boolean.TRUE;
                        case "false": case "no": case "off": case "0": case "": return Boolean.FALSE;
                        default: break;
                    }
                }
                break;
            case INT:
                if (value instanceof Number && ((Number) value).doubleValue() == ((Number) value).longValue()) {
                    return ((Number) value).longValue();
                }
                if (value instanceof String) {
                    String s = ((String) value).trim();
                    if (s.isEmpty()) {
                        return 0L;
                    }
                    try {
                        return Long.parseLong(s);
                    } catch (NumberFormatException e) {
                        break;
                    }
                }
                break;
            default:
                throw new AssertionError(this);
        }
        throw new ParameterException(name, "Parameter '" + name + "' must be of type " + label
                + " (current value: '" + value + "')");
    }
}
