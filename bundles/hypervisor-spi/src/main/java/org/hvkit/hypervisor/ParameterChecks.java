package org.hvkit.hypervisor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ganeti's base parameter algorithms ({@code hv_base.BaseHypervisor}): filling instance
 * parameters with the cluster defaults, the master-side syntax check and the node-side
 * validation, with Ganeti's error texts (SPEC b.1). Hypervisors call these first and then
 * apply their own cross-parameter rules.
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
     * The filled parameter dict: the defaults overlaid with {@code overrides}, each value
     * coerced to its parameter's type. Unknown keys are kept (so that the syntax check can
     * name them); the result keeps the catalogue's order.
     *
     * @throws ParameterException when a value cannot be coerced to its type
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
            filled.put(e.getKey(), spec == null ? e.getValue() : spec.type().coerce(e.getKey(), e.getValue()));
        }
        return Collections.unmodifiableMap(filled);
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
     * value types and the descriptors' syntax predicates. No filesystem access.
     *
     * @throws ParameterException for the first problem found, naming the parameter
     */
    public static void checkSyntax(Map<String, ParameterSpec> parameters, Map<String, ?> hvparams)
            throws ParameterException {
        for (String key : hvparams.keySet()) {
            if (!parameters.containsKey(key)) {
                throw new ParameterException(key, "Parameter '" + key + "' is not supported");
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
                        + spec.type().label() + " (current value: '" + value + "')");
            }
            if (check.syntax() != null && !check.syntax().test(value)) {
                throw new ParameterException(name, "Parameter '" + name + "' fails syntax check: "
                        + check.syntaxText() + " (current value: '" + value + "')");
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
                        + check.nodeText() + " (current value: '" + value + "')");
            }
        }
    }
}
