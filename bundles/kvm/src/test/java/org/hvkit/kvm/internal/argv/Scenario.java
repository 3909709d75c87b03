package org.hvkit.kvm.internal.argv;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceJson;
import org.hvkit.hypervisor.ParameterChecks;
import org.hvkit.hypervisor.ParameterException;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.params.KvmParameters;

/**
 * One argv scenario, read from {@code src/test/resources/golden/<name>/scenario.json}: the
 * scenario set is the set of directories there (see {@code golden/README.md} for the file's
 * shape). A scenario is an instance in Ganeti's dict shape ({@link InstanceJson}, strict) whose
 * {@code hvparams} are its own (filled with {@link KvmParameters#DEFAULTS} as Ganeti fills them
 * with the cluster's), plus what the executing node adds. File paths are {@code @PLACEHOLDERS@},
 * filled in by the golden test with fixed paths and by the launch test with real temporary files.
 *
 * @param instance    the {@code instance} object, placeholders unresolved
 * @param poolUser    the uid pool's user ({@code node.pool_user}), or null
 * @param incoming    the address a migration target listens on ({@code node.incoming}), or null
 * @param startPaused whether the node starts the instance paused ({@code node.start_paused})
 * @param layout      the device layout of the saved runtime being rendered ({@code node.layout}, e.g. 1 for a
 *                    runtime an older hvkit wrote), or 0 for a new start (the current layout)
 */
record Scenario(String name, String about, JsonNode instance, String poolUser, String incoming,
                boolean startPaused, int layout) {

    static final String INSTANCE = "inst1.example.com";
    static final String FILE = "scenario.json";

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final Pattern PLACEHOLDER = Pattern.compile("@[A-Z0-9_]+@");
    private static final Set<String> TOP_KEYS = Set.of("about", "instance", "node");
    private static final Set<String> NODE_KEYS = Set.of("pool_user", "incoming", "start_paused", "layout");

    /** {@code src/test/resources/golden} of this module. */
    static Path root() {
        return Path.of(System.getProperty("basedir", "."), "src/test/resources/golden");
    }

    /** Every scenario: one per directory under {@link #root()}, by name. */
    static List<Scenario> all() {
        try (Stream<Path> dirs = Files.list(root())) {
            List<Scenario> out = new ArrayList<>();
            for (Path d : (Iterable<Path>) dirs.filter(Files::isDirectory).sorted()::iterator) {
                out.add(load(d));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The scenario of one directory; a file that does not have the documented shape is refused. */
    static Scenario load(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        JsonNode top = MAPPER.readTree(Files.readString(file));
        if (top == null || !top.isObject() || !top.path("instance").isObject()) {
            throw new IllegalArgumentException(file + ": expected {\"instance\": {...}, \"node\": {...}}");
        }
        JsonNode node = top.path("node");
        onlyKnown(file, "", top, TOP_KEYS);
        onlyKnown(file, "node.", node, NODE_KEYS);
        return new Scenario(dir.getFileName().toString(), top.path("about").asText(""), top.get("instance"),
                node.path("pool_user").asText(null), node.path("incoming").asText(null),
                node.path("start_paused").asBoolean(false), node.path("layout").asInt(0));
    }

    private static void onlyKnown(Path file, String prefix, JsonNode node, Set<String> known) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) {
                throw new IllegalArgumentException(file + ": unknown field " + prefix + k + " (known: " + known + ")");
            }
        }
    }

    /** The saved layout to render in, null for a new start. */
    DeviceLayout savedLayout() {
        return layout == 0 ? null : new DeviceLayout(layout, java.util.Map.of());
    }

    /** This scenario's file. */
    Path file() {
        return root().resolve(name).resolve(FILE);
    }

    /**
     * The instance with every string that is a whole {@code @PLACEHOLDER@} replaced by
     * {@code places}, read strictly as Ganeti's dict; a placeholder left without a value is an
     * error (it would reach an argv as it stands). Errors name the file.
     */
    Instance instance(UnaryOperator<String> places) {
        try {
            return InstanceJson.fromTree(resolve(instance.deepCopy(), places), w -> { }, false);
        } catch (ParameterException e) {
            throw new IllegalArgumentException(file() + ": " + e.getMessage(), e);
        }
    }

    private JsonNode resolve(JsonNode n, UnaryOperator<String> places) {
        if (n instanceof ObjectNode o) {
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                e.setValue(resolve(e.getValue(), places));
            }
        } else if (n instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                a.set(i, resolve(a.get(i), places));
            }
        } else if (n.isTextual() && PLACEHOLDER.matcher(n.asText()).matches()) {
            String value = places.apply(n.asText());
            if (PLACEHOLDER.matcher(value).matches()) {
                throw new IllegalArgumentException(file() + ": no value for placeholder " + value);
            }
            return TextNode.valueOf(value);
        }
        return n;
    }

    /** The instance's own hvparams over the defaults, as the driver fills them. */
    static Map<String, Object> filledHvparams(Instance instance) throws ParameterException {
        return new LinkedHashMap<>(ParameterChecks.fill(KvmParameters.PARAMETERS, KvmParameters.DEFAULTS,
                instance.hvparams()));
    }

    /** What the executing node adds, for this scenario's instance and filled hvparams. */
    ExecutionContext executionContext(Instance instance, Map<String, Object> hv, QemuCapabilities caps) {
        return ExecutionContext.layout(instance.nics().size(), NicArgs.queues(hv, caps),
                KvmParameters.bool(hv, KvmParameters.SERIAL_CONSOLE),
                KvmParameters.bool(hv, KvmParameters.USE_GUEST_AGENT),
                caps, poolUser, incoming, startPaused);
    }
}
