package org.hvkit.hypervisor;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
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
 * {@code tags}, {@code uuid}). Unknown keys are ignored with a warning; every error names the
 * offending field, e.g. {@code nics[1].mac}.
 */
public final class InstanceJson {

    /** Jackson's "[Source: REDACTED (…); line: 2, column: 31]" inside a message, reduced to its position. */
    private static final java.util.regex.Pattern SOURCE_REF =
            java.util.regex.Pattern.compile("\\[Source: .*?; line: (\\d+), column: (\\d+)\\]");


    private static final Logger LOG = LoggerFactory.getLogger(InstanceJson.class);
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private static final Set<String> TOP_KEYS = Set.of("name", "primary_node", "hypervisor", "hvparams", "beparams",
            "nics", "disks", "disk_template", "network_port", "tags", "uuid");
    // Ganeti 2.6+ split memory into minmem/maxmem; the hypervisor starts instances with maxmem
    private static final Set<String> BE_KEYS = Set.of("memory", "maxmem", "minmem", "vcpus", "auto_balance",
            "always_failover", "spindle_use");
    private static final Set<String> NIC_KEYS = Set.of("mac", "ip", "nicparams", "name", "uuid", "network");
    private static final Set<String> NICPARAM_KEYS = Set.of("mode", "link", "vlan");
    private static final Set<String> DISK_KEYS = Set.of("dev_path", "mode", "size", "name", "uuid", "iv_name");

    private InstanceJson() {
    }

    /** Decodes an instance; warnings (ignored keys) go to the log. */
    public static Instance read(String json) throws ParameterException {
        return read(json, w -> LOG.warn("{}", w));
    }

    /**
     * Decodes an instance, reporting ignored keys to {@code warnings}.
     *
     * @throws ParameterException naming the offending field (or {@code json} for malformed text)
     */
    public static Instance read(String json, Consumer<String> warnings) throws ParameterException {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
            throw new ParameterException("json", "Invalid instance definition: malformed JSON" + where + ": "
                    + SOURCE_REF.matcher(e.getOriginalMessage()).replaceAll("line $1, column $2"));
        }
        if (root == null || root.isMissingNode()) {
            throw fail("json", "the document is empty (expected a JSON object)");
        }
        return fromTree(root, warnings);
    }

    /** Decodes an instance from an already parsed JSON tree. */
    public static Instance fromTree(JsonNode root, Consumer<String> warnings) throws ParameterException {
        if (!root.isObject()) {
            throw fail("json", "expected a JSON object, got " + kind(root));
        }
        warnUnknown(root, TOP_KEYS, "", warnings);
        String name = text(root, "name", true, "");
        if (!Instance.isValidName(name)) {
            throw fail("name", "'" + name + "' is not a valid instance name (1-63 characters: letters, digits,"
                    + " '.', '_', '-', starting with a letter or digit)");
        }
        Instance.Builder b = Instance.builder(name)
                .primaryNode(text(root, "primary_node", false, ""))
                .hypervisor(text(root, "hypervisor", false, ""))
                .uuid(text(root, "uuid", false, ""));
        b.hvparams(hvparams(root.get("hvparams")));
        b.beparams(beparams(root.get("beparams"), warnings));
        for (Map.Entry<Integer, JsonNode> e : elements(root, "nics")) {
            b.nic(nic(e.getValue(), "nics[" + e.getKey() + "]", warnings));
        }
        for (Map.Entry<Integer, JsonNode> e : elements(root, "disks")) {
            b.disk(disk(e.getValue(), "disks[" + e.getKey() + "]", warnings));
        }
        String template = text(root, "disk_template", false, "diskless");
        if (!Instance.DISK_TEMPLATES.contains(template)) {
            throw fail("disk_template", "unknown disk template '" + template + "' (allowed: "
                    + String.join(", ", Instance.DISK_TEMPLATES) + ")");
        }
        b.diskTemplate(template);
        long port = integer(root, "network_port", 0);
        if (port < 0 || port > 65535) {
            throw fail("network_port", port + " is out of range (allowed: 0..65535, 0 = none)");
        }
        b.networkPort((int) port);
        List<String> tags = new ArrayList<>();
        for (Map.Entry<Integer, JsonNode> e : elements(root, "tags")) {
            if (!e.getValue().isTextual()) {
                throw fail("tags[" + e.getKey() + "]", "expected a string, got " + kind(e.getValue()));
            }
            tags.add(e.getValue().asText());
        }
        b.tags(tags);
        return b.build();
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
        ArrayNode nics = o.putArray("nics");
        for (Nic nic : instance.nics()) {
            ObjectNode n = nics.addObject();
            n.put("mac", nic.mac());
            if (nic.ip() != null) {
                n.put("ip", nic.ip());
            }
            ObjectNode np = n.putObject("nicparams");
            np.put("mode", nic.mode().ganetiName());
            np.put("link", nic.link());
        }
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

    private static Map<String, Object> hvparams(JsonNode node) throws ParameterException {
        Map<String, Object> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isObject()) {
            throw fail("hvparams", "expected an object of parameter values, got " + kind(node));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
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
                throw fail("hvparams." + e.getKey(), "expected a string, boolean or integer, got " + kind(v));
            }
            out.put(e.getKey(), value);
        }
        return out;
    }

    private static BackendParams beparams(JsonNode node, Consumer<String> warnings) throws ParameterException {
        if (node == null || node.isNull()) {
            return BackendParams.DEFAULTS;
        }
        if (!node.isObject()) {
            throw fail("beparams", "expected an object {memory, vcpus}, got " + kind(node));
        }
        warnUnknown(node, BE_KEYS, "beparams.", warnings);
        String memKey = node.has("maxmem") && !node.has("memory") ? "maxmem" : "memory";
        long memory = integer(node, memKey, "beparams.", BackendParams.DEFAULTS.memory());
        if (memory < 1 || memory > Integer.MAX_VALUE) {
            throw fail("beparams." + memKey, memory + " MiB is out of range (allowed: 1.." + Integer.MAX_VALUE + ")");
        }
        long vcpus = integer(node, "vcpus", "beparams.", BackendParams.DEFAULTS.vcpus());
        if (vcpus < 1 || vcpus > 4096) {
            throw fail("beparams.vcpus", vcpus + " is out of range (allowed: 1..4096)");
        }
        return new BackendParams((int) memory, (int) vcpus);
    }

    private static Nic nic(JsonNode node, String path, Consumer<String> warnings) throws ParameterException {
        if (!node.isObject()) {
            throw fail(path, "expected an object {mac, ip, nicparams}, got " + kind(node));
        }
        warnUnknown(node, NIC_KEYS, path + ".", warnings);
        String mac = text(node, "mac", true, path + ".", "").toLowerCase(Locale.ROOT);
        if (!Nic.isValidMac(mac)) {
            throw fail(path + ".mac", "'" + node.get("mac").asText() + "' is not a valid MAC address (expected six"
                    + " colon-separated hex pairs, e.g. aa:00:00:12:34:56)");
        }
        String ip = node.hasNonNull("ip") ? text(node, "ip", false, path + ".", null) : null;
        NicMode mode = NicMode.BRIDGED;
        String link = "";
        JsonNode params = node.get("nicparams");
        if (params != null && !params.isNull()) {
            if (!params.isObject()) {
                throw fail(path + ".nicparams", "expected an object {mode, link}, got " + kind(params));
            }
            warnUnknown(params, NICPARAM_KEYS, path + ".nicparams.", warnings);
            String m = text(params, "mode", false, path + ".nicparams.", "bridged");
            try {
                mode = NicMode.valueOf(m.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw fail(path + ".nicparams.mode", "unknown NIC mode '" + m + "' (allowed: bridged, routed)");
            }
            link = text(params, "link", false, path + ".nicparams.", "");
        }
        return new Nic(mac, ip, mode, link);
    }

    private static Disk disk(JsonNode node, String path, Consumer<String> warnings) throws ParameterException {
        if (!node.isObject()) {
            throw fail(path, "expected an object {dev_path, mode, size}, got " + kind(node));
        }
        warnUnknown(node, DISK_KEYS, path + ".", warnings);
        String devPath = text(node, "dev_path", true, path + ".", "");
        if (!devPath.startsWith("/")) {
            throw fail(path + ".dev_path", "'" + devPath + "' is not an absolute path");
        }
        String m = text(node, "mode", false, path + ".", "rw");
        DiskMode mode;
        try {
            mode = DiskMode.valueOf(m.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw fail(path + ".mode", "unknown disk mode '" + m + "' (allowed: rw, ro)");
        }
        long size = integer(node, "size", path + ".", 0);
        if (size < 0) {
            throw fail(path + ".size", size + " is negative (size in MiB)");
        }
        return new Disk(devPath, mode, size);
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
        return v.asText();
    }

    private static long integer(JsonNode parent, String key, long dflt) throws ParameterException {
        return integer(parent, key, "", dflt);
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

    private static void warnUnknown(JsonNode node, Set<String> known, String prefix, Consumer<String> warnings) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) {
                warnings.accept("Ignoring unknown instance field '" + prefix + k + "'");
            }
        }
    }

    private static String kind(JsonNode v) {
        if (v.isTextual()) {
            return "string '" + v.asText() + "'";
        }
        if (v.isContainerNode()) {
            return v.isArray() ? "an array" : "an object";
        }
        return v.getNodeType().name().toLowerCase(Locale.ROOT) + " " + v;
    }

    private static ParameterException fail(String field, String problem) {
        return new ParameterException(field, "Invalid instance definition: " + field + ": " + problem);
    }
}
