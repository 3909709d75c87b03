package org.hvkit.hypervisor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Reads and writes instances in Ganeti's own dict shape (snake_case keys: {@code name},
 * {@code primary_node}, {@code hypervisor}, {@code hvparams}, {@code beparams}
 * {@code {memory, vcpus}}, {@code nics} {@code [{mac, ip, nicparams {mode, link}}]},
 * {@code disks} {@code [{dev_path, mode, size}]}, {@code disk_template}, {@code network_port},
 * {@code tags}, {@code uuid}). Every error names the offending field, e.g. {@code nics[1].mac}.
 *
 * <p>Since 1.2 reading is <em>strict</em> by default: an unknown field is an error naming its
 * path and, when there is a close one, the nearest known field
 * ({@code Invalid instance definition: beparams.memroy: unknown field (did you mean 'memory'?)}).
 * In <em>lenient</em> mode unknown fields are only reported as warnings and ignored. The keys
 * of {@code hvparams} are not checked here: the hypervisor knows its catalogue
 * ({@link ParameterChecks#checkSyntax}). In both modes:
 * <ul>
 * <li>the strings that reach command lines, environments or file names ({@code name},
 *     {@code primary_node}, {@code hypervisor}, {@code uuid}, {@code tags[i]},
 *     {@code nics[i].ip}, {@code nics[i].nicparams.link}, {@code disks[i].dev_path} and every
 *     other string field read) must not contain control characters (U+0000–U+001F, U+007F);</li>
 * <li>{@code disks[i].dev_path} is an absolute normalized path;</li>
 * <li>MAC addresses are unicast and unique within the instance;</li>
 * <li>a JSON object must not repeat a key, and nothing may follow the document's object;</li>
 * <li>a document has at most {@link #MAX_BYTES} characters ({@link #readFile}: bytes).</li>
 * </ul>
 */
public final class InstanceJson {

    /**
     * The largest instance document read: 1 MiB ({@link #readFile} counts bytes,
     * {@link #read(String, Consumer, boolean)} characters). Since 1.2.
     */
    public static final int MAX_BYTES = 1 << 20;

    /** Jackson's "[Source: REDACTED (…); line: 2, column: 31]" inside a message, reduced to its position. */
    private static final java.util.regex.Pattern SOURCE_REF =
            java.util.regex.Pattern.compile("\\[Source: .*?; line: (\\d+), column: (\\d+)\\]");

    private static final Logger LOG = LoggerFactory.getLogger(InstanceJson.class);
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private static final List<String> TOP_KEYS = List.of("name", "primary_node", "hypervisor", "hvparams",
            "beparams", "nics", "disks", "disk_template", "network_port", "tags", "uuid");
    // Ganeti 2.6+ split memory into minmem/maxmem; the hypervisor starts instances with maxmem
    private static final List<String> BE_KEYS = List.of("memory", "maxmem", "minmem", "vcpus", "auto_balance",
            "always_failover", "spindle_use");
    private static final List<String> NIC_KEYS = List.of("mac", "ip", "nicparams", "name", "uuid", "network");
    private static final List<String> NICPARAM_KEYS = List.of("mode", "link", "vlan");
    private static final List<String> DISK_KEYS = List.of("dev_path", "mode", "size", "name", "uuid", "iv_name");

    private InstanceJson() {
    }

    /** Decodes an instance strictly (unknown fields are errors; since 1.2). */
    public static Instance read(String json) throws ParameterException {
        return read(json, w -> LOG.warn("{}", w), false);
    }

    /**
     * Decodes an instance strictly (unknown fields are errors; since 1.2). {@code warnings}
     * receives nothing in strict mode today; it is kept for source compatibility.
     *
     * @throws ParameterException naming the offending field (or {@code json} for malformed text)
     */
    public static Instance read(String json, Consumer<String> warnings) throws ParameterException {
        return read(json, warnings, false);
    }

    /**
     * Decodes an instance. Since 1.2.
     *
     * @param json     the document, at most {@link #MAX_BYTES} characters
     * @param warnings receives what lenient mode ignores ({@code Ignoring unknown instance field
     *                 'beparams.memroy' (did you mean 'memory'?)})
     * @param lenient  report unknown fields to {@code warnings} instead of refusing them; every
     *                 other rule holds in both modes
     * @throws ParameterException naming the offending field (or {@code json} for malformed or
     *                            oversized text)
     */
    public static Instance read(String json, Consumer<String> warnings, boolean lenient) throws ParameterException {
        if (json == null || json.isBlank()) {
            throw fail("json", "the document is empty (expected a JSON object)");
        }
        if (json.length() > MAX_BYTES) {
            throw fail("json", "the document is too large: " + json.length() + " characters (the limit is "
                    + MAX_BYTES + ")");
        }
        JsonNode root;
        try (JsonParser parser = MAPPER.createParser(json)) {
            root = MAPPER.readTree(parser);
            if (root != null && parser.nextToken() != null) {
                JsonLocation loc = parser.currentTokenLocation();
                throw fail("json", "unexpected content after the JSON object at line " + loc.getLineNr()
                        + ", column " + loc.getColumnNr());
            }
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
            throw new ParameterException("json", "Invalid instance definition: malformed JSON" + where + ": "
                    + SOURCE_REF.matcher(Texts.escape(e.getOriginalMessage())).replaceAll("line $1, column $2"));
        } catch (IOException e) {
            throw new IllegalStateException("reading a string failed", e); // a String source does no I/O
        }
        if (root == null || root.isMissingNode()) {
            throw fail("json", "the document is empty (expected a JSON object)");
        }
        return fromTree(root, warnings, lenient);
    }

    /**
     * Reads an instance file of at most {@link #MAX_BYTES} bytes, UTF-8, see
     * {@link #read(String, Consumer, boolean)}. Since 1.2.
     *
     * <p>The file (symbolic links followed) must be a regular file: a directory, FIFO, socket or
     * device is refused from its attributes, before it is opened, so that {@code /dev/zero} or a
     * FIFO nobody writes cannot make the caller read forever or block. A file larger than
     * {@link #MAX_BYTES} is refused from its size; at most {@code MAX_BYTES + 1} bytes are ever
     * read, so a file that grows after the check is refused too. (A file <em>replaced</em> by a
     * FIFO between the check and the open would still block the open: keep instance files in
     * directories that only trusted users can write.)
     *
     * @throws ParameterException  the content is not a valid instance definition (as
     *                             {@link #read(String, Consumer, boolean)}, or not UTF-8)
     * @throws HypervisorException the file is missing, unreadable, not a regular file or too large:
     *                             {@code Instance file /dev/zero is not a regular file (a character device)}
     */
    public static Instance readFile(Path file, Consumer<String> warnings, boolean lenient)
            throws HypervisorException {
        String shown = Texts.escape(file.toString());
        byte[] bytes;
        try {
            BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
            if (!attrs.isRegularFile()) {
                throw new HypervisorException("Instance file " + shown + " is not a regular file ("
                        + fileKind(file, attrs) + ")");
            }
            if (attrs.size() > MAX_BYTES) {
                throw new HypervisorException("Instance file " + shown + " is too large: " + attrs.size()
                        + " bytes (the limit is " + MAX_BYTES + " bytes)");
            }
            try (InputStream in = Files.newInputStream(file)) {
                bytes = atMostMaxBytes(in, shown);
            }
        } catch (NoSuchFileException e) {
            throw new HypervisorException("Cannot read instance file " + shown + ": no such file", e);
        } catch (AccessDeniedException e) {
            throw new HypervisorException("Cannot read instance file " + shown + ": permission denied", e);
        } catch (IOException e) {
            throw new HypervisorException("Cannot read instance file " + shown + ": " + Texts.escape(e.toString()), e);
        }
        return read(utf8(bytes), warnings, lenient);
    }

    /** Reads {@code in} to its end but at most {@code MAX_BYTES + 1} bytes: a file may grow after its check. */
    static byte[] atMostMaxBytes(InputStream in, String shown) throws IOException, HypervisorException {
        byte[] bytes = in.readNBytes(MAX_BYTES + 1);
        if (bytes.length > MAX_BYTES) {
            throw new HypervisorException("Instance file " + shown + " is too large: more than " + MAX_BYTES
                    + " bytes (the limit; it grew while being read)");
        }
        return bytes;
    }

    private static String utf8(byte[] bytes) throws ParameterException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length); // UTF-8 never has more characters than bytes
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw fail("json", "the file is not UTF-8 text (invalid byte sequence at byte offset "
                    + in.position() + ")");
        }
        out.flip();
        String text = out.toString();
        return text.startsWith("\uFEFF") ? text.substring(1) : text; // a byte order mark is no content
    }

    /** What a non-regular file is, for the error message; follows symbolic links as the check did. */
    private static String fileKind(Path file, BasicFileAttributes attrs) {
        if (attrs.isDirectory()) {
            return "a directory";
        }
        try {
            int mode = (Integer) Files.getAttribute(file, "unix:mode");
            switch (mode & 0170000) {
                case 0010000: return "a FIFO";
                case 0020000: return "a character device";
                case 0060000: return "a block device";
                case 0140000: return "a socket";
                default: return "a special file";
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return "a special file";
        }
    }

    /**
     * Decodes an instance from an already parsed JSON tree, <em>leniently</em> (unknown fields
     * go to {@code warnings}): what runtime-state readers use, so that state written by another
     * hvkit version is still adopted. Every other rule of the class applies.
     */
    public static Instance fromTree(JsonNode root, Consumer<String> warnings) throws ParameterException {
        return fromTree(root, warnings, true);
    }

    /**
     * Decodes an instance from an already parsed JSON tree; {@code lenient} as in
     * {@link #read(String, Consumer, boolean)}. Since 1.2.
     */
    public static Instance fromTree(JsonNode root, Consumer<String> warnings, boolean lenient)
            throws ParameterException {
        return new Decoder(warnings, lenient).instance(root);
    }

    /** Encodes an instance in Ganeti's dict shape (pretty-printed). */
    public static String write(Instance instance) {
        try {
            return MAPPER.writeValueAsString(toTree(instance));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode instance " + instance.name(), e);
        }
    }

    /** Encodes an instance as a JSON tree in Ganeti's dict shape. */
    public static ObjectNode toTree(Instance instance) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("name", instance.name());
        o.put("primary_node", instance.primaryNode());
        o.put("hypervisor", instance.hypervisor());
        o.set("hvparams", MAPPER.valueToTree(instance.hvparams()));
        ObjectNode be = o.putObject("beparams");
        be.put("memory", instance.beparams().memory());
        be.put("vcpus", instance.beparams().vcpus());
        o.set("nics", nicsToTree(instance.nics()));
        ArrayNode disks = o.putArray("disks");
        for (Disk disk : instance.disks()) {
            ObjectNode d = disks.addObject();
            d.put("dev_path", disk.devPath());
            d.put("mode", disk.mode().ganetiName());
            d.put("size", disk.sizeMiB());
        }
        o.put("disk_template", instance.diskTemplate());
        o.put("network_port", instance.networkPort());
        ArrayNode tags = o.putArray("tags");
        instance.tags().forEach(tags::add);
        o.put("uuid", instance.uuid());
        return o;
    }

    /** Encodes NICs in Ganeti's shape, {@code [{mac, ip, nicparams {mode, link}}]}. Since 1.2. */
    public static ArrayNode nicsToTree(List<Nic> list) {
        ArrayNode nics = MAPPER.createArrayNode();
        for (Nic nic : list) {
            ObjectNode n = nics.addObject();
            n.put("mac", nic.mac());
            if (nic.ip() != null) {
                n.put("ip", nic.ip());
            }
            ObjectNode np = n.putObject("nicparams");
            np.put("mode", nic.mode().ganetiName());
            np.put("link", nic.link());
        }
        return nics;
    }

    /**
     * Decodes the NIC list under {@code key} of {@code parent} with the checks an instance file
     * gets (valid, unicast MACs, none twice); errors name {@code key[i]}. Shared by every reader
     * of NIC lists (the KVM runtime file among them). Since 1.2.
     */
    public static List<Nic> nicsFromTree(JsonNode parent, String key, Consumer<String> warnings, boolean lenient)
            throws ParameterException {
        return new Decoder(warnings, lenient).nics(parent, key);
    }

    /** One decoding: where warnings go and whether unknown fields are tolerated. */
    private static final class Decoder {
        private final Consumer<String> warnings;
        private final boolean lenient;

        Decoder(Consumer<String> warnings, boolean lenient) {
            this.warnings = warnings;
            this.lenient = lenient;
        }

        Instance instance(JsonNode root) throws ParameterException {
            if (root == null || !root.isObject()) {
                throw fail("json", "expected a JSON object, got " + (root == null ? "nothing" : kind(root)));
            }
            unknown(root, TOP_KEYS, "");
            String name = text(root, "name", true, "");
            if (!Instance.isValidName(name)) {
                throw fail("name", Texts.quote(name) + " is not a valid instance name (" + Instance.NAME_RULE + ")");
            }
            Instance.Builder b = Instance.builder(name)
                    .primaryNode(text(root, "primary_node", false, ""))
                    .hypervisor(text(root, "hypervisor", false, ""))
                    .uuid(text(root, "uuid", false, ""));
            b.hvparams(hvparams(root.get("hvparams")));
            b.beparams(beparams(root.get("beparams")));
            b.nics(nics(root, "nics"));
            for (Map.Entry<Integer, JsonNode> e : elements(root, "disks")) {
                b.disk(disk(e.getValue(), "disks[" + e.getKey() + "]"));
            }
            String template = text(root, "disk_template", false, "diskless");
            if (!Instance.DISK_TEMPLATES.contains(template)) {
                throw fail("disk_template", "unknown disk template " + Texts.quote(template) + " (allowed: "
                        + String.join(", ", Instance.DISK_TEMPLATES) + ")");
            }
            b.diskTemplate(template);
            long port = integer(root, "network_port", "", 0);
            if (port < 0 || port > 65535) {
                throw fail("network_port", port + " is out of range (allowed: 0..65535, 0 = none)");
            }
            b.networkPort((int) port);
            List<String> tags = new ArrayList<>();
            for (Map.Entry<Integer, JsonNode> e : elements(root, "tags")) {
                String path = "tags[" + e.getKey() + "]";
                if (!e.getValue().isTextual()) {
                    throw fail(path, "expected a string, got " + kind(e.getValue()));
                }
                tags.add(checked(path, e.getValue().asText()));
            }
            b.tags(tags);
            return b.build();
        }

        private BackendParams beparams(JsonNode node) throws ParameterException {
            if (node == null || node.isNull()) {
                return BackendParams.DEFAULTS;
            }
            if (!node.isObject()) {
                throw fail("beparams", "expected an object {memory, vcpus}, got " + kind(node));
            }
            unknown(node, BE_KEYS, "beparams.");
            String memKey = node.has("maxmem") && !node.has("memory") ? "maxmem" : "memory";
            long memory = integer(node, memKey, "beparams.", BackendParams.DEFAULTS.memory());
            if (memory < 1 || memory > Integer.MAX_VALUE) {
                throw fail("beparams." + memKey, memory + " MiB is out of range (allowed: 1.." + Integer.MAX_VALUE
                        + ")");
            }
            long vcpus = integer(node, "vcpus", "beparams.", BackendParams.DEFAULTS.vcpus());
            if (vcpus < 1 || vcpus > 4096) {
                throw fail("beparams.vcpus", vcpus + " is out of range (allowed: 1..4096)");
            }
            return new BackendParams((int) memory, (int) vcpus);
        }

        /** The NIC list under {@code key} of {@code parent}: each NIC checked, no MAC twice. */
        List<Nic> nics(JsonNode parent, String key) throws ParameterException {
            List<Nic> nics = new ArrayList<>();
            for (Map.Entry<Integer, JsonNode> e : elements(parent, key)) {
                nics.add(nic(e.getValue(), key + "[" + e.getKey() + "]"));
            }
            int[] duplicate = Instance.duplicateMac(nics);
            if (duplicate != null) {
                throw fail(key + "[" + duplicate[0] + "].mac", Instance.duplicateMacText(nics, duplicate));
            }
            return nics;
        }

        private Nic nic(JsonNode node, String path) throws ParameterException {
            if (!node.isObject()) {
                throw fail(path, "expected an object {mac, ip, nicparams}, got " + kind(node));
            }
            unknown(node, NIC_KEYS, path + ".");
            String mac = text(node, "mac", true, path + ".", "").toLowerCase(Locale.ROOT);
            if (!Nic.isValidMac(mac)) {
                throw fail(path + ".mac", Texts.quote(node.get("mac").asText()) + " is not a valid MAC address"
                        + " (expected six colon-separated hex pairs, e.g. aa:00:00:12:34:56)");
            }
            if (!Nic.isUnicastMac(mac)) {
                throw fail(path + ".mac", Nic.multicastMessage(mac));
            }
            String ip = node.hasNonNull("ip") ? text(node, "ip", false, path + ".", null) : null;
            NicMode mode = NicMode.BRIDGED;
            String link = "";
            JsonNode params = node.get("nicparams");
            if (params != null && !params.isNull()) {
                if (!params.isObject()) {
                    throw fail(path + ".nicparams", "expected an object {mode, link}, got " + kind(params));
                }
                unknown(params, NICPARAM_KEYS, path + ".nicparams.");
                String m = text(params, "mode", false, path + ".nicparams.", "bridged");
                try {
                    mode = NicMode.valueOf(m.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw fail(path + ".nicparams.mode", "unknown NIC mode " + Texts.quote(m)
                            + " (allowed: bridged, routed)");
                }
                link = text(params, "link", false, path + ".nicparams.", "");
            }
            return new Nic(mac, ip, mode, link);
        }

        private Disk disk(JsonNode node, String path) throws ParameterException {
            if (!node.isObject()) {
                throw fail(path, "expected an object {dev_path, mode, size}, got " + kind(node));
            }
            unknown(node, DISK_KEYS, path + ".");
            String devPath = text(node, "dev_path", true, path + ".", "");
            if (!ParameterCheck.isAbsoluteNormalizedPath(devPath)) {
                throw fail(path + ".dev_path", Texts.quote(devPath) + " is not an absolute normalized path"
                        + " (no '.' or '..' segments, no '//', no trailing '/')");
            }
            String m = text(node, "mode", false, path + ".", "rw");
            DiskMode mode;
            try {
                mode = DiskMode.valueOf(m.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw fail(path + ".mode", "unknown disk mode " + Texts.quote(m) + " (allowed: rw, ro)");
            }
            long size = integer(node, "size", path + ".", 0);
            if (size < 0) {
                throw fail(path + ".size", size + " is negative (size in MiB)");
            }
            return new Disk(devPath, mode, size);
        }

        /** Unknown keys of {@code node}: an error in strict mode, a warning in lenient mode. */
        private void unknown(JsonNode node, List<String> known, String prefix) throws ParameterException {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (known.contains(k)) {
                    continue;
                }
                String path = prefix + Texts.escape(Texts.truncate(k));
                String hint = Texts.didYouMean(k, known);
                if (!lenient) {
                    throw fail(path, "unknown field" + hint);
                }
                warnings.accept("Ignoring unknown instance field '" + path + "'" + hint);
            }
        }
    }

    private static Map<String, Object> hvparams(JsonNode node) throws ParameterException {
        return hvparamsFromTree(node, "hvparams");
    }

    /**
     * Decodes hypervisor parameter values as an instance file has them (strings, booleans,
     * integers, null); errors name {@code field}. Shared by every reader of hvparams (the KVM
     * runtime file among them). Since 1.2.
     */
    public static Map<String, Object> hvparamsFromTree(JsonNode node, String field) throws ParameterException {
        Map<String, Object> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isObject()) {
            throw fail(field, "expected an object of parameter values, got " + kind(node));
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            JsonNode v = e.getValue();
            Object value;
            if (v.isNull()) {
                value = null;
            } else if (v.isTextual()) {
                value = v.asText();
            } else if (v.isBoolean()) {
                value = v.asBoolean();
            } else if (v.isIntegralNumber() && v.canConvertToLong()) {
                value = v.asLong();
            } else {
                throw fail(field + "." + Texts.escape(Texts.truncate(e.getKey())),
                        "expected a string, boolean or integer, got " + kind(v));
            }
            out.put(e.getKey(), value);
        }
        return out;
    }

    private static List<Map.Entry<Integer, JsonNode>> elements(JsonNode parent, String key) throws ParameterException {
        JsonNode node = parent.get(key);
        List<Map.Entry<Integer, JsonNode>> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isArray()) {
            throw fail(key, "expected an array, got " + kind(node));
        }
        for (int i = 0; i < node.size(); i++) {
            out.add(Map.entry(i, node.get(i)));
        }
        return out;
    }

    private static String text(JsonNode parent, String key, boolean required, String dflt) throws ParameterException {
        return text(parent, key, required, "", dflt);
    }

    /** A string field; control characters are refused in every one (they would reach command lines or files). */
    private static String text(JsonNode parent, String key, boolean required, String prefix, String dflt)
            throws ParameterException {
        JsonNode v = parent.get(key);
        if (v == null || v.isNull()) {
            if (required) {
                throw fail(prefix + key, "is missing (required)");
            }
            return dflt;
        }
        if (!v.isTextual()) {
            throw fail(prefix + key, "expected a string, got " + kind(v));
        }
        return checked(prefix + key, v.asText());
    }

    private static String checked(String path, String value) throws ParameterException {
        String problem = Texts.controlCharProblem(value);
        if (problem != null) {
            throw fail(path, problem);
        }
        return value;
    }

    private static long integer(JsonNode parent, String key, String prefix, long dflt) throws ParameterException {
        JsonNode v = parent.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw fail(prefix + key, "expected an integer, got " + kind(v));
        }
        return v.asLong();
    }

    private static String kind(JsonNode v) {
        if (v.isTextual()) {
            return "string " + Texts.quote(v.asText());
        }
        if (v.isContainerNode()) {
            return v.isArray() ? "an array" : "an object";
        }
        return v.getNodeType().name().toLowerCase(Locale.ROOT) + " " + Texts.truncate(v.toString());
    }

    private static ParameterException fail(String field, String problem) {
        return new ParameterException(field, "Invalid instance definition: " + field + ": " + problem);
    }
}
