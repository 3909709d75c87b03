package org.hvkit.hypervisor;

import java.io.ObjectStreamException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Ganeti's parameter descriptor: whether the parameter is required, a master-side syntax
 * predicate with its error text, and a node-side validity predicate with its error text
 * (the {@code *_CHECK} tuples and {@code ParamInSet} of {@code lib/hypervisor/hv_base.py}).
 * Predicates are only ever called with non-falsy values.
 *
 * <p><b>Across a wire</b> (since 2.0) a check travels as its label, requirement and texts, never
 * as code: the named constants of this class come back as themselves, an {@link #inSet} check
 * comes back with its values, and any other check (a provider's own predicate) comes back as a
 * check whose predicates throw {@link UnsupportedOperationException} naming the label: the node
 * that declared it decides, through its hypervisor's {@code checkParameterSyntax} and
 * {@code validateParameters}.
 *
 * @param label      the descriptor's name as shown to operators, e.g. {@code OPT_FILE_CHECK}
 * @param required   whether a falsy value is an error
 * @param syntax     master-side check (no filesystem access), or null
 * @param syntaxText what the syntax check demands, used in the error message
 * @param node       node-side check (may look at the filesystem), or null
 * @param nodeText   what the node check demands, used in the error message
 */
public record ParameterCheck(String label, boolean required,
                             Predicate<Object> syntax, String syntaxText,
                             Predicate<Object> node, String nodeText) implements Serializable {

    private static final long serialVersionUID = 1L;

    public ParameterCheck {
        Objects.requireNonNull(label, "label");
        if ((syntax == null) != (syntaxText == null) || (node == null) != (nodeText == null)) {
            throw new IllegalArgumentException("a check predicate needs its error text and vice versa");
        }
    }

    private static final String PATH_TEXT = "must be an absolute normalized path";

    /** No check at all. */
    public static final ParameterCheck NO_CHECK = new ParameterCheck("NO_CHECK", false, null, null, null, null);
    /** Only required to be non-empty. */
    public static final ParameterCheck REQUIRED_CHECK = new ParameterCheck("REQUIRED_CHECK", true, null, null, null, null);
    /** Optional absolute normalized path of an existing regular file. */
    public static final ParameterCheck OPT_FILE_CHECK = new ParameterCheck("OPT_FILE_CHECK", false,
            ParameterCheck::isAbsoluteNormalizedPath, PATH_TEXT, ParameterCheck::isRegularFile, "not found or not a file");
    /** Required absolute normalized path of an existing regular file. */
    public static final ParameterCheck REQ_FILE_CHECK = new ParameterCheck("REQ_FILE_CHECK", true,
            ParameterCheck::isAbsoluteNormalizedPath, PATH_TEXT, ParameterCheck::isRegularFile, "not found or not a file");
    /** Optional absolute normalized path of an existing directory. */
    public static final ParameterCheck OPT_DIR_CHECK = new ParameterCheck("OPT_DIR_CHECK", false,
            ParameterCheck::isAbsoluteNormalizedPath, PATH_TEXT, ParameterCheck::isDirectory, "not found or not a directory");
    /** Required absolute normalized path of an existing directory. */
    public static final ParameterCheck REQ_DIR_CHECK = new ParameterCheck("REQ_DIR_CHECK", true,
            ParameterCheck::isAbsoluteNormalizedPath, PATH_TEXT, ParameterCheck::isDirectory, "not found or not a directory");
    /**
     * A TCP port, 1..65535. Ganeti's {@code _NET_PORT_CHECK} ({@code hv_base.py}) rejects 65535;
     * hvkit accepts it (docs/ganeti-behaviour.md, "Where hvkit differs on purpose").
     */
    public static final ParameterCheck NET_PORT_CHECK = new ParameterCheck("NET_PORT_CHECK", true,
            ParameterCheck::isNetPort, "invalid port number", null, null);
    /** {@code live} or {@code non-live}. */
    public static final ParameterCheck MIGRATION_MODE_CHECK = new ParameterCheck("MIGRATION_MODE_CHECK", true,
            v -> "live".equals(v) || "non-live".equals(v), "invalid migration mode", null, null);

    /**
     * Optional absolute normalized path of an existing regular file, or an http(s)/ftp(s) URL
     * (Ganeti 3.0's {@code OPT_FILE_OR_URL_CHECK}, {@code hv_base.py}; a URL counts when it starts
     * with the scheme, as {@code utils.IsUrl}). Since 1.3.
     */
    public static final ParameterCheck OPT_FILE_OR_URL_CHECK = new ParameterCheck("OPT_FILE_OR_URL_CHECK", false,
            v -> isAbsoluteNormalizedPath(v) || isUrl(v), "must be an absolute normalized path or a URL",
            v -> isRegularFile(v) || isUrl(v), "not found or not a file or URL");
    /** Optional integer that is not negative (Ganeti 3.0's {@code OPT_NONNEGATIVE_INT_CHECK}). Since 1.3. */
    public static final ParameterCheck OPT_NONNEGATIVE_INT_CHECK = new ParameterCheck("OPT_NONNEGATIVE_INT_CHECK",
            false, v -> isInteger(v) && ((Number) v).longValue() >= 0, "cannot be negative", null, null);
    /**
     * Optional virtio-net queue count, 1..8 (Ganeti 3.0's {@code OPT_VIRTIO_NET_QUEUES_CHECK}).
     * Since 1.3.
     */
    public static final ParameterCheck OPT_VIRTIO_NET_QUEUES_CHECK = new ParameterCheck("OPT_VIRTIO_NET_QUEUES_CHECK",
            false, v -> isInteger(v) && ((Number) v).longValue() > 0 && ((Number) v).longValue() < 9,
            "invalid number of queues", null, null);
    /**
     * Optional multiple CPU mask such as {@code 0-2,5:all:3} (Ganeti 3.0's
     * {@code OPT_MULTI_CPU_MASK_CHECK}; the syntax is {@link CpuMasks#parseMulti}). Since 1.3.
     */
    public static final ParameterCheck OPT_MULTI_CPU_MASK_CHECK = new ParameterCheck("OPT_MULTI_CPU_MASK_CHECK",
            false, CpuMasks::isMultiMask, "Multiple CPU mask definition is not well-formed", null, null);

    /**
     * Ganeti's {@code ParamInSet}: the value must be one of {@code values} (compared with
     * {@code equals}); the error text lists them in the given order.
     */
    public static ParameterCheck inSet(boolean required, List<?> values) {
        List<?> allowed = List.copyOf(values);
        StringBuilder text = new StringBuilder("The value must be one of: ");
        for (int i = 0; i < allowed.size(); i++) {
            text.append(i == 0 ? "" : ", ").append(allowed.get(i));
        }
        return new ParameterCheck((required ? "REQ" : "OPT") + "_IN_SET" + allowed, required,
                new InSet(allowed), text.toString(), null, null);
    }

    /** The predicate of {@link #inSet}, a value so that the check can cross a wire with its values. */
    private record InSet(List<?> allowed) implements Predicate<Object> {
        @Override
        public boolean test(Object value) {
            return allowed.contains(value);
        }
    }

    /** The named constants by label, for {@link Wire#readResolve}. */
    private static final Map<String, ParameterCheck> NAMED = named(NO_CHECK, REQUIRED_CHECK, OPT_FILE_CHECK,
            REQ_FILE_CHECK, OPT_DIR_CHECK, REQ_DIR_CHECK, NET_PORT_CHECK, MIGRATION_MODE_CHECK, OPT_FILE_OR_URL_CHECK,
            OPT_NONNEGATIVE_INT_CHECK, OPT_VIRTIO_NET_QUEUES_CHECK, OPT_MULTI_CPU_MASK_CHECK);

    private static Map<String, ParameterCheck> named(ParameterCheck... checks) {
        Map<String, ParameterCheck> out = new LinkedHashMap<>();
        for (ParameterCheck c : checks) {
            out.put(c.label(), c);
        }
        return Map.copyOf(out);
    }

    /** Serialization writes the {@link Wire} form: data, never predicates. Since 2.0. */
    private Object writeReplace() throws ObjectStreamException {
        return new Wire(label, required, syntaxText, nodeText, syntax instanceof InSet in ? in.allowed() : null);
    }

    /**
     * What a check is on a wire: its label, requirement, texts and, for {@link #inSet}, its values.
     */
    private record Wire(String label, boolean required, String syntaxText, String nodeText, List<?> inSet)
            implements Serializable {
        private static final long serialVersionUID = 1L;

        private Object readResolve() throws ObjectStreamException {
            ParameterCheck known = NAMED.get(label);
            if (known != null && known.required == required && Objects.equals(known.syntaxText, syntaxText)
                    && Objects.equals(known.nodeText, nodeText)) {
                return known;
            }
            Predicate<Object> node = nodeText == null ? null : elsewhere(label);
            if (inSet != null) {
                return new ParameterCheck(label, required, new InSet(List.copyOf(inSet)), syntaxText, node, nodeText);
            }
            return new ParameterCheck(label, required, syntaxText == null ? null : elsewhere(label), syntaxText,
                    node, nodeText);
        }

        private static Predicate<Object> elsewhere(String label) {
            return v -> {
                throw new UnsupportedOperationException("parameter check " + label + " came from another node and"
                        + " cannot run here: ask that node's hypervisor (checkParameterSyntax, validateParameters)");
            };
        }
    }

    /** A check with the same requirement and node check but a different syntax predicate. */
    public ParameterCheck withSyntax(String newLabel, Predicate<Object> newSyntax, String newSyntaxText) {
        return new ParameterCheck(newLabel, required, newSyntax, newSyntaxText, node, nodeText);
    }

    /** Python's {@code os.path.isabs(p) and os.path.normpath(p) == p}. */
    public static boolean isAbsoluteNormalizedPath(Object value) {
        if (!(value instanceof String)) {
            return false;
        }
        String s = (String) value;
        if (!s.startsWith("/")) {
            return false;
        }
        try {
            // Path.of folds "//" and drops a trailing "/", normalize() removes "." and ".."
            return Path.of(s).normalize().toString().equals(s);
        } catch (InvalidPathException e) {
            return false;
        }
    }

    /** Ganeti's {@code utils.IsUrl}: the text starts with {@code http://}, {@code https://}, {@code ftp://} or {@code ftps://}. Since 1.3. */
    public static boolean isUrl(Object value) {
        if (!(value instanceof String)) {
            return false;
        }
        String s = (String) value;
        return s.startsWith("http://") || s.startsWith("https://") || s.startsWith("ftp://") || s.startsWith("ftps://");
    }

    private static boolean isInteger(Object value) {
        return value instanceof Integer || value instanceof Long;
    }

    static boolean isNetPort(Object value) {
        if (!(value instanceof Integer || value instanceof Long)) {
            return false;
        }
        long port = ((Number) value).longValue();
        return port >= 1 && port <= 65535;
    }

    private static boolean isRegularFile(Object value) {
        return value instanceof String && Files.isRegularFile(Path.of((String) value));
    }

    private static boolean isDirectory(Object value) {
        return value instanceof String && Files.isDirectory(Path.of((String) value));
    }
}
