package org.hvkit.hypervisor;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ganeti's base parameter algorithms ({@code hv_base.BaseHypervisor}): filling instance
 * parameters with the cluster defaults, the master-side syntax check and the node-side
 * validation, with Ganeti's error texts (docs/ganeti-behaviour.md, "Parameter check texts").
 * Hypervisors call these first and then apply their own cross-parameter rules.
 */
public final class ParameterChecks {

    private ParameterChecks() {
    }

    /**
     * Ganeti's notion of an unset value: null, {@code ""}, {@code 0} and {@code false}.
     */
    public static boolean isFalsy(Object value) {
        if (value == null) {
            return true;
        }
        if (value instanceof String) {
            return ((String) value).isEmpty();
        }
        if (value instanceof Boolean) {
            return !((Boolean) value);
        }
        if (value instanceof Number) {
            return ((Number) value).doubleValue() == 0;
        }
        return false;
    }

    /**
     * The filled parameter dict: the defaults overlaid with {@code overrides}. Unknown keys are
     * kept (so that the syntax check can name them); the result keeps the catalogue's order.
     *
     * <p>Since 1.2 the instance's values are not coerced: each must already have its parameter's
     * type ({@link ParameterType#STRING} a {@code String}, {@link ParameterType#BOOL} a
     * {@code Boolean}, {@link ParameterType#INT} an {@code Integer} or {@code Long}, stored as a
     * {@code Long}); null stays null. ({@code "root_path": 7} used to become {@code "7"}.) Text
     * from configuration files is converted with {@link ParameterType#coerce} before it gets here.
     *
     * @throws ParameterException naming the first value of the wrong type, e.g. {@code Parameter
     *                            'root_path' must be of type string (current value: 7, a number)}
     */
    public static Map<String, Object> fill(Map<String, ParameterSpec> parameters, Map<String, Object> defaults,
                                           Map<String, ?> overrides) throws ParameterException {
        Map<String, Object> filled = new LinkedHashMap<>();
        for (String name : parameters.keySet()) {
            if (defaults.containsKey(name)) {
                filled.put(name, defaults.get(name));
            }
        }
        for (Map.Entry<String, ?> e : overrides.entrySet()) {
            ParameterSpec spec = parameters.get(e.getKey());
            Object value = e.getValue();
            if (spec != null && value != null) {
                if (!spec.type().accepts(value)) {
                    throw new ParameterException(e.getKey(), "Parameter " + Texts.quote(e.getKey())
                            + " must be of type " + spec.type().label() + " (current value: " + describe(value) + ")");
                }
                if (value instanceof Integer) {
                    value = ((Integer) value).longValue();
                }
            }
            filled.put(e.getKey(), value);
        }
        return Collections.unmodifiableMap(filled);
    }

    /** A value of unknown type for a message: {@code 7, a number}, {@code 'x', a string}. */
    private static String describe(Object value) {
        if (value instanceof String) {
            return Texts.quote((String) value) + ", a string";
        }
        String text = String.valueOf(value);
        text = Texts.escape(Texts.truncate(text));
        if (value instanceof Number) {
            return text + ", a number";
        }
        if (value instanceof Boolean) {
            return text + ", a boolean";
        }
        if (value instanceof Collection) {
            return text + ", a list";
        }
        if (value instanceof Map) {
            return text + ", a map";
        }
        return text + ", a " + value.getClass().getSimpleName();
    }

    /**
     * Ganeti refuses instance-level values for global parameters ({@code migration_port} …).
     *
     * @param instanceOverrides the parameters the instance sets itself (not the filled dict)
     */
    public static void checkNoGlobalOverrides(Map<String, ParameterSpec> parameters, Map<String, ?> instanceOverrides)
            throws ParameterException {
        List<String> globals = new ArrayList<>();
        for (String key : instanceOverrides.keySet()) {
            ParameterSpec spec = parameters.get(key);
            if (spec != null && spec.global()) {
                globals.add(key);
            }
        }
        if (!globals.isEmpty()) {
            throw new ParameterException(globals.get(0), "The following hypervisor parameters are global and cannot"
                    + " be customized at instance level, please modify them at cluster level: "
                    + String.join(", ", globals));
        }
    }

    /**
     * The master-side syntax check of a filled parameter dict (Ganeti's base
     * {@code CheckParameterSyntax}): unknown keys, missing keys, required-but-empty values,
     * value types and the descriptors' syntax predicates. No filesystem access. Since 1.2 an
     * unknown key's message names the nearest known parameter when there is a close one
     * ({@code Parameter 'kernel_pat' is not supported (did you mean 'kernel_path'?)}), and a
     * {@link ParameterType#STRING} value must not contain control characters (U+0000–U+001F,
     * U+007F): values reach command lines ({@code Parameter 'kernel_args' contains a control
     * character (U+0000 at offset 5); not allowed in values that reach QEMU's command line}).
     *
     * @throws ParameterException for the first problem found, naming the parameter
     */
    public static void checkSyntax(Map<String, ParameterSpec> parameters, Map<String, ?> hvparams)
            throws ParameterException {
        for (String key : hvparams.keySet()) {
            if (!parameters.containsKey(key)) {
                throw new ParameterException(key, "Parameter " + Texts.quote(key) + " is not supported"
                        + Texts.didYouMean(key, parameters.keySet()));
            }
        }
        for (ParameterSpec spec : parameters.values()) {
            String name = spec.name();
            if (!hvparams.containsKey(name)) {
                throw new ParameterException(name, "Parameter '" + name + "' is missing");
            }
            Object value = hvparams.get(name);
            ParameterCheck check = spec.check();
            if (isFalsy(value)) {
                if (check.required()) {
                    throw new ParameterException(name,
                            "Parameter '" + name + "' is required but is currently not defined");
                }
                continue;
            }
            if (!spec.type().accepts(value)) {
                throw new ParameterException(name, "Parameter '" + name + "' must be of type "
                        + spec.type().label() + " (current value: '" + Texts.escape(String.valueOf(value)) + "')");
            }
            String control = value instanceof String ? Texts.controlCharProblem((String) value) : null;
            if (control != null) {
                throw new ParameterException(name, "Parameter '" + name + "' " + control
                        + "; not allowed in values that reach QEMU's command line");
            }
            if (check.syntax() != null && !check.syntax().test(value)) {
                throw new ParameterException(name, "Parameter '" + name + "' fails syntax check: "
                        + check.syntaxText() + " (current value: '" + Texts.escape(String.valueOf(value)) + "')");
            }
        }
    }

    /**
     * The node-side validation of a filled parameter dict (Ganeti's base
     * {@code ValidateParameters}): the descriptors' node predicates, e.g. files exist.
     *
     * @throws ParameterException for the first problem found, naming the parameter
     */
    public static void validate(Map<String, ParameterSpec> parameters, Map<String, ?> hvparams)
            throws ParameterException {
        for (ParameterSpec spec : parameters.values()) {
            String name = spec.name();
            Object value = hvparams.get(name);
            ParameterCheck check = spec.check();
            if (isFalsy(value) && !check.required()) {
                continue;
            }
            if (check.node() != null && !check.node().test(value)) {
                throw new ParameterException(name, "Parameter '" + name + "' fails validation: "
                        + check.nodeText() + " (current value: '" + Texts.escape(String.valueOf(value)) + "')");
            }
        }
    }
}
