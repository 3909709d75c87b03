package org.hvkit.kvm.internal.caps;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What a QEMU binary says about itself over QMP, asked once with {@code -machine none}
 * ({@link QmpProbe}; libvirt's {@code virQEMUCaps} probing does the same): its version, the QMP
 * commands it serves, its machine types and which one is the default, the device types it can
 * create, the parameters of each command-line option that has a parameter list, and whether
 * KVM is present. Answers are hostile input: every list is bounded and every name checked.
 *
 * @param major          {@code query-version}
 * @param minor          {@code query-version}
 * @param micro          {@code query-version}
 * @param packageText    {@code query-version}'s package string (e.g. a distribution's build)
 * @param commands       {@code query-commands}
 * @param machines       {@code query-machines}: each machine type and alias
 * @param defaultMachine the default machine type's own name (e.g. {@code pc-i440fx-7.2} for
 *                       alias {@code pc}), empty when the binary has no default
 * @param devices        {@code qom-list-types} implementing {@code device}, not abstract
 * @param options        {@code query-command-line-options}: option → its parameter names
 * @param kvmPresent     {@code query-kvm}'s {@code present}
 * @param aioModes       the block layer's {@code aio=} modes ({@code query-qmp-schema}: the one enum
 *                       that lists {@code threads} and {@code native}; {@code io_uring} only where
 *                       QEMU was built with liburing), empty when not known
 */
public record QmpFacts(int major, int minor, int micro, String packageText, Set<String> commands,
                       Map<String, String> machines, String defaultMachine, Set<String> devices,
                       Map<String, Set<String>> options, boolean kvmPresent, Set<String> aioModes) {

    /** Upper bound of names in any one answer (QEMU 7.2 has ~60 machines, ~500 devices, ~220 commands). */
    static final int MAX_NAMES = 10_000;
    /** What a QEMU name (command, machine, device type, option, parameter) may look like. */
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_.,:+-]{1,128}");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public QmpFacts {
        commands = Collections.unmodifiableSet(new TreeSet<>(commands));
        machines = Collections.unmodifiableMap(new TreeMap<>(machines));
        devices = Collections.unmodifiableSet(new TreeSet<>(devices));
        TreeMap<String, Set<String>> o = new TreeMap<>();
        options.forEach((k, v) -> o.put(k, Collections.unmodifiableSet(new TreeSet<>(v))));
        options = Collections.unmodifiableMap(o);
        aioModes = Collections.unmodifiableSet(new TreeSet<>(aioModes));
    }

    /** Facts without the {@code aio=} modes (not known). */
    public QmpFacts(int major, int minor, int micro, String packageText, Set<String> commands,
                    Map<String, String> machines, String defaultMachine, Set<String> devices,
                    Map<String, Set<String>> options, boolean kvmPresent) {
        this(major, minor, micro, packageText, commands, machines, defaultMachine, devices, options, kvmPresent,
                Set.of());
    }

    /** Whether {@code machine} is one of the binary's machine types or aliases ({@code query-machines}). */
    public boolean hasMachine(String machine) {
        return machines.containsKey(machine);
    }

    /** Whether the command-line option exists and has a parameter list (QEMU's QemuOpts options). */
    public boolean hasOption(String option) {
        return options.containsKey(option);
    }

    /** Whether the command-line option takes parameter {@code param}. */
    public boolean hasOptionParameter(String option, String param) {
        return options.getOrDefault(option, Set.of()).contains(param);
    }

    /** These facts with the {@code aio=} modes {@link #aioModes(JsonNode)} found. */
    QmpFacts withAioModes(Set<String> modes) {
        return new QmpFacts(major, minor, micro, packageText, commands, machines, defaultMachine, devices, options,
                kvmPresent, modes);
    }

    /** The facts from the answers of the six queries (QMP {@code return} values). */
    static QmpFacts from(JsonNode version, JsonNode commands, JsonNode machines, JsonNode devices, JsonNode options,
                         JsonNode kvm) {
        JsonNode q = version.path("qemu");
        int major = number(q, "major");
        int minor = number(q, "minor");
        int micro = number(q, "micro");
        Map<String, String> machineMap = new TreeMap<>();
        String defaultMachine = "";
        for (JsonNode m : list(machines, "query-machines")) {
            String name = name(m.path("name"), "query-machines");
            machineMap.put(name, name);
            if (m.hasNonNull("alias")) {
                machineMap.put(name(m.path("alias"), "query-machines"), name);
            }
            if (m.path("is-default").asBoolean(false)) {
                defaultMachine = name;
            }
        }
        Map<String, Set<String>> opts = new TreeMap<>();
        for (JsonNode o : list(options, "query-command-line-options")) {
            String option = o.path("option").asText("");
            if (option.isEmpty()) {
                continue; // QEMU 7.2 lists one nameless entry (the -set/-global machinery)
            }
            Set<String> params = new TreeSet<>();
            for (JsonNode p : list(o.path("parameters"), "query-command-line-options " + option)) {
                params.add(name(p.path("name"), "query-command-line-options " + option));
            }
            // an option may be listed more than once (its parameter lists then add up)
            opts.computeIfAbsent(name(o.path("option"), "query-command-line-options"), k -> new TreeSet<>())
                    .addAll(params);
        }
        return new QmpFacts(major, minor, micro, text(version.path("package")), names(commands, "name", "query-commands"),
                machineMap, defaultMachine, names(devices, "name", "qom-list-types"), opts,
                kvm.path("present").asBoolean(false));
    }

    /**
     * The members of the schema's one enum that lists both {@code threads} and {@code native}
     * (QEMU's {@code BlockdevAioOptions}; the schema masks type names, so it is found by its
     * members). None or more than one such enum: not known (empty).
     */
    static Set<String> aioModes(JsonNode schema) {
        if (!schema.isArray() || schema.size() > 20 * MAX_NAMES) {
            throw new IllegalArgumentException("query-qmp-schema: expected a list of at most " + 20 * MAX_NAMES
                    + " entities, got " + abbreviated(schema));
        }
        JsonNode found = null;
        for (JsonNode t : schema) {
            if (!"enum".equals(t.path("meta-type").asText())) {
                continue;
            }
            // "values" until it was deprecated in QEMU 6.0 for "members" ({"name": …}); only the
            // one enum taken is checked name by name (other enums' names are none of hvkit's business)
            JsonNode values = t.path("values");
            if (!values.isArray() && t.path("members").isArray()) {
                ArrayNode names = MAPPER.createArrayNode();
                t.path("members").forEach(m -> names.add(m.path("name")));
                values = names;
            }
            boolean threads = false;
            boolean nativeAio = false;
            for (JsonNode v : values) {
                threads |= "threads".equals(v.asText());
                nativeAio |= "native".equals(v.asText());
            }
            if (threads && nativeAio) {
                if (found != null) {
                    return Set.of();
                }
                found = values;
            }
        }
        if (found == null) {
            return Set.of();
        }
        return strings(found, "query-qmp-schema aio modes");
    }

    /** The facts as a JSON tree (the on-disk capability cache). */
    ObjectNode toTree() {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("major", major).put("minor", minor).put("micro", micro).put("package", packageText);
        commands.forEach(n.putArray("commands")::add);
        ObjectNode m = n.putObject("machines");
        machines.forEach(m::put);
        n.put("defaultMachine", defaultMachine);
        ArrayNode d = n.putArray("devices");
        devices.forEach(d::add);
        ObjectNode o = n.putObject("options");
        options.forEach((k, v) -> v.forEach(o.withArray(k)::add));
        options.keySet().forEach(k -> o.withArray(k));
        n.put("kvmPresent", kvmPresent);
        aioModes.forEach(n.putArray("aioModes")::add);
        return n;
    }

    /** Reads {@link #toTree}'s form back; throws IllegalArgumentException when it is not that form. */
    static QmpFacts fromTree(JsonNode n) {
        Map<String, String> machineMap = new TreeMap<>();
        n.path("machines").fields().forEachRemaining(e -> machineMap.put(checked(e.getKey(), "machines"),
                name(e.getValue(), "machines")));
        Map<String, Set<String>> opts = new TreeMap<>();
        n.path("options").fields().forEachRemaining(e -> {
            Set<String> params = new TreeSet<>();
            list(e.getValue(), "options").forEach(p -> params.add(name(p, "options")));
            opts.put(checked(e.getKey(), "options"), params);
        });
        String def = n.path("defaultMachine").asText("");
        if (!def.isEmpty()) {
            checked(def, "defaultMachine");
        }
        return new QmpFacts(number(n, "major"), number(n, "minor"), number(n, "micro"), text(n.path("package")),
                strings(n.path("commands"), "commands"), machineMap, def, strings(n.path("devices"), "devices"), opts,
                n.path("kvmPresent").asBoolean(false),
                n.has("aioModes") ? strings(n.path("aioModes"), "aioModes") : Set.of());
    }

    private static int number(JsonNode n, String field) {
        JsonNode v = n.path(field);
        if (!v.canConvertToInt() || v.asInt() < 0 || v.asInt() > 10_000) {
            throw new IllegalArgumentException("query-version: " + field + " is not a version number: " + v);
        }
        return v.asInt();
    }

    private static List<JsonNode> list(JsonNode n, String what) {
        if (!n.isArray()) {
            throw new IllegalArgumentException(what + ": expected a list, got " + abbreviated(n));
        }
        if (n.size() > MAX_NAMES) {
            throw new IllegalArgumentException(what + ": " + n.size() + " entries, more than " + MAX_NAMES);
        }
        List<JsonNode> out = new ArrayList<>();
        n.forEach(out::add);
        return out;
    }

    private static Set<String> names(JsonNode n, String field, String what) {
        Set<String> out = new TreeSet<>();
        list(n, what).forEach(e -> out.add(name(e.path(field), what)));
        return out;
    }

    private static Set<String> strings(JsonNode n, String what) {
        Set<String> out = new TreeSet<>();
        list(n, what).forEach(e -> out.add(name(e, what)));
        return out;
    }

    private static String name(JsonNode n, String what) {
        if (!n.isTextual()) {
            throw new IllegalArgumentException(what + ": expected a name, got " + abbreviated(n));
        }
        return checked(n.asText(), what);
    }

    private static String checked(String s, String what) {
        if (!NAME.matcher(s).matches()) {
            throw new IllegalArgumentException(what + ": not a QEMU name: '" + abbreviated(MAPPER.getNodeFactory()
                    .textNode(s)) + "'");
        }
        return s;
    }

    private static String text(JsonNode n) {
        String s = n.asText("");
        StringBuilder out = new StringBuilder();
        s.codePoints().limit(200).filter(c -> c >= 0x20 && c != 0x7f).forEach(out::appendCodePoint);
        return out.toString();
    }

    private static String abbreviated(JsonNode n) {
        String s = n.toString();
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
