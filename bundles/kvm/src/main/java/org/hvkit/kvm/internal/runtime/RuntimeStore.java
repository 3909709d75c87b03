package org.hvkit.kvm.internal.runtime;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.hvkit.hypervisor.AtomicFiles;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceJson;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.ParameterException;
import org.hvkit.kvm.internal.argv.DeviceLayout;
import org.hvkit.kvm.internal.argv.KvmRuntime;
import org.hvkit.kvm.internal.argv.PciSlots;
import org.hvkit.kvm.internal.runtime.RuntimePaths;

/**
 * The runtime directory and the runtime files (docs/ganeti-behaviour.md, "Runtime directory"
 * and "Runtime file format"). A runtime file is Ganeti's
 * JSON array {@code [command, nics, hvparams]} plus a fourth element
 * {@code {"hvkit": {"version": 2, "instance": {...}}}} that hvkit needs to adopt and re-render
 * instances; files with three elements (Ganeti's) load too.
 *
 * <p>Format 2 saves the command without the monitor, QMP and serial sockets: they are bound at
 * execution (as descriptors where QEMU takes them). Older files (format 1, Ganeti's) carry
 * them in the command; loading strips them, so an instance started by an older hvkit reboots
 * and migrates under this one.
 *
 * <p>{@code "layout"} and {@code "pci_slots"} in the fourth element are the device layout the
 * command was generated with ({@link DeviceLayout}); files without them are
 * {@link DeviceLayout#LEGACY} and keep rendering as they always did.
 */
public final class RuntimeStore {

    public static final int FORMAT_VERSION = 2;
    /** A runtime file is an instance file (at most 1 MiB) plus its command: anything bigger is damage. */
    public static final int MAX_FILE_BYTES = 4 << 20;
    /** A nic file holds one interface name (IFNAMSIZ - 1 characters), plus a newline. */
    private static final int MAX_TAP_FILE = 64;
    /** What Linux accepts as an interface name and hvkit hands to rtnetlink or an ifup script. */
    private static final java.util.regex.Pattern TAP_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A loaded runtime file: the runtime and, for hvkit's own files, the instance. */
    public record Saved(KvmRuntime runtime, Optional<Instance> instance, String text) {
    }

    private final RuntimePaths paths;

    public RuntimeStore(RuntimePaths paths) {
        this.paths = paths;
    }

    public RuntimePaths paths() {
        return paths;
    }

    /**
     * Creates the directories with mode 0775 if needed. Once per activation, not per call:
     * Ganeti's chmod on every construction broke non-root callers (Ganeti #664). A sub-directory that
     * is a symbolic link is refused: every later file operation must stay inside the root.
     */
    public void ensureDirectories() throws HypervisorException {
        for (Path d : List.of(paths.root(), paths.pidDir(), paths.uidDir(), paths.ctrlDir(), paths.confDir(),
                paths.nicDir(), paths.chrootDir(), paths.quarantineDir(), paths.lockDir(), paths.capsDir())) {
            try {
                if (!Files.exists(d, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(d);
                    Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxr-x"));
                } else if (!d.equals(paths.root()) && !Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                    throw new HypervisorException("'" + d + "' is not a directory (a symbolic link or a file);"
                            + " remove it so that hvkit can create it");
                }
            } catch (IOException e) {
                throw new HypervisorException("Cannot create needed directory '" + d + "': " + e.getMessage(), e);
            }
        }
    }

    public static String serialize(KvmRuntime runtime, Instance instance) {
        ArrayNode top = MAPPER.createArrayNode();
        ArrayNode cmd = top.addArray();
        runtime.argv().forEach(cmd::add);
        top.add(InstanceJson.nicsToTree(runtime.nics()));
        top.add(MAPPER.valueToTree(runtime.hvparams()));
        ObjectNode extra = top.addObject().putObject("hvkit");
        extra.put("version", FORMAT_VERSION);
        extra.put("layout", runtime.layout().version());
        if (!runtime.layout().pciSlots().isEmpty()) {
            ObjectNode slots = extra.putObject("pci_slots");
            runtime.layout().pciSlots().forEach(slots::put);
        }
        extra.set("instance", InstanceJson.toTree(instance));
        try {
            return MAPPER.writeValueAsString(top) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Saved parse(String text, String source) throws HypervisorException {
        JsonNode top;
        try {
            top = MAPPER.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // one line: Jackson's own message carries a second line with the (redacted) source
            var at = e.getLocation();
            throw new HypervisorException("Failed to load KVM runtime file " + source + ": " + e.getOriginalMessage()
                    + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr()), e);
        } catch (IOException e) {
            throw new HypervisorException("Failed to load KVM runtime file " + source + ": " + e.getMessage(), e);
        }
        if (top == null || !top.isArray() || top.size() < 3 || !top.get(0).isArray() || !top.get(1).isArray()
                || !top.get(2).isObject()) {
            throw new HypervisorException("Failed to load KVM runtime file " + source
                    + ": expected [command, nics, hvparams, ...]");
        }
        List<String> command = new ArrayList<>();
        for (JsonNode v : top.get(0)) {
            if (!v.isTextual()) {
                throw new HypervisorException("Failed to load KVM runtime file " + source
                        + ": the command holds a non-string element " + v);
            }
            command.add(v.asText());
        }
        JsonNode extra = top.size() > 3 ? top.get(3).path("hvkit") : null;
        List<String> argv = extra == null || extra.path("version").asInt(1) < 2 ? withoutControlSockets(command)
                : command;
        // the instance file's own codec for NICs and hvparams: the same checks (valid, unicast,
        // unique MACs), lenient about fields Ganeti's runtime files carry beyond hvkit's
        List<Nic> nics;
        Map<String, Object> hv;
        Optional<Instance> instance = Optional.empty();
        try {
            nics = InstanceJson.nicsFromTree(MAPPER.createObjectNode().set("nics", top.get(1)), "nics", w -> { }, true);
            hv = InstanceJson.hvparamsFromTree(top.get(2), "hvparams");
            if (extra != null && extra.has("instance")) {
                instance = Optional.of(InstanceJson.fromTree(extra.get("instance"), w -> { }));
            }
        } catch (ParameterException e) {
            throw new HypervisorException("Failed to load KVM runtime file " + source + ": " + e.getMessage(), e);
        }
        return new Saved(new KvmRuntime(argv, nics, hv, layout(extra, source)), instance, text);
    }

    /** A device id in {@code pci_slots}: {@code disk<i>}, {@code nic<i>}, {@code balloon0} and the like. */
    private static final java.util.regex.Pattern DEVICE_ID = java.util.regex.Pattern.compile("[a-z][a-z-]{0,15}[0-9]{1,4}");

    /**
     * The device layout of a runtime file: none saved (Ganeti's files, hvkit's before layouts)
     * is {@link DeviceLayout#LEGACY}; a layout newer than this hvkit knows, or slots that are not
     * slots of one bus, are refused rather than rendered as something else.
     */
    static DeviceLayout layout(JsonNode extra, String source) throws HypervisorException {
        if (extra == null || extra.path("layout").isMissingNode()) {
            return DeviceLayout.legacy();
        }
        JsonNode v = extra.get("layout");
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < DeviceLayout.LEGACY
                || v.asInt() > DeviceLayout.CURRENT) {
            throw new HypervisorException("Failed to load KVM runtime file " + source + ": device layout " + v
                    + " is not one this hvkit renders (" + DeviceLayout.LEGACY + ".." + DeviceLayout.CURRENT
                    + "; a newer hvkit wrote it?)");
        }
        Map<String, Integer> slots = new java.util.LinkedHashMap<>();
        JsonNode saved = extra.path("pci_slots");
        if (!saved.isMissingNode() && !saved.isObject()) {
            throw new HypervisorException("Failed to load KVM runtime file " + source + ": pci_slots is not an object");
        }
        for (var it = saved.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!DEVICE_ID.matcher(e.getKey()).matches() || !e.getValue().isIntegralNumber()
                    || !e.getValue().canConvertToInt()) {
                throw new HypervisorException("Failed to load KVM runtime file " + source + ": pci_slots holds "
                        + printable(e.getKey()) + ": " + e.getValue() + " (a device id and a slot number expected)");
            }
            slots.put(e.getKey(), e.getValue().asInt());
        }
        try {
            PciSlots.restore(0, slots);
        } catch (HypervisorException e) {
            throw new HypervisorException("Failed to load KVM runtime file " + source + ": " + e.getMessage(), e);
        }
        return new DeviceLayout(v.asInt(), slots);
    }

    /** A name from a hostile file, fit for an error message: quoted, at most 40 characters, no control characters. */
    private static String printable(String s) {
        return "'" + (s.length() > 40 ? s.substring(0, 40) + "…" : s).replaceAll("\\p{Cntrl}", "?") + "'";
    }

    /** A format-1 command without the sockets execution now adds ({@code -serial none} stays). */
    static List<String> withoutControlSockets(List<String> argv) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < argv.size(); i++) {
            String opt = argv.get(i);
            String val = i + 1 < argv.size() ? argv.get(i + 1) : "";
            boolean socket = opt.equals("-monitor") || opt.equals("-qmp")
                    || opt.equals("-chardev") && val.startsWith("socket,id=serial0,")
                    || opt.equals("-serial") && (val.equals("chardev:serial0") || val.startsWith("unix:"));
            if (socket) {
                i++;
            } else {
                out.add(opt);
            }
        }
        return out;
    }

    public void save(String name, KvmRuntime runtime, Instance instance) throws HypervisorException {
        saveText(name, serialize(runtime, instance));
    }

    public void saveText(String name, String text) throws HypervisorException {
        Path file = paths.confined(paths.runtimeFile(name));
        try {
            AtomicFiles.write(file, text);
        } catch (IOException e) {
            throw new HypervisorException("Failed to save KVM runtime file " + file + ": " + e.getMessage(), e);
        }
    }

    public Optional<Saved> load(String name) throws HypervisorException {
        Path file = paths.runtimeFile(name);
        try {
            return Optional.of(parse(SafeFiles.read(file, MAX_FILE_BYTES), file.toString()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new HypervisorException("Failed to load KVM runtime file " + file + ": "
                    + (e.getMessage() == null ? e.toString() : e.getMessage()), e);
        }
    }

    /** The nic files: {@code nic/<name>/<index>} holds the host interface (tap) of NIC {@code index}. */
    public void saveTaps(String name, List<String> taps) throws HypervisorException {
        Path dir = paths.confined(paths.nicDir(name));
        try {
            Files.createDirectories(dir);
            for (int i = 0; i < taps.size(); i++) {
                // confined: a planted nic/<name> link must not redirect the writes
                AtomicFiles.write(paths.confined(dir.resolve(Integer.toString(i))), taps.get(i));
            }
        } catch (IOException e) {
            throw new HypervisorException("Failed to write the nic files of " + name + ": " + e, e);
        }
    }

    /**
     * The nic files after a NIC was hot-removed: {@link #saveTaps}, then the file of the index
     * that no longer exists goes.
     */
    public void replaceTaps(String name, List<String> taps) throws HypervisorException {
        saveTaps(name, taps);
        try {
            Files.deleteIfExists(paths.confined(paths.nicDir(name).resolve(Integer.toString(taps.size()))));
        } catch (IOException e) {
            throw new HypervisorException("Failed to remove a nic file of " + name + ": " + e, e);
        }
    }

    /** The host interface of NIC {@code index} as its nic file names it (a bounded read, no link followed). */
    public String tap(String name, int index) throws HypervisorException {
        Path file = paths.nicDir(name).resolve(Integer.toString(index));
        try {
            String tap = SafeFiles.read(file, MAX_TAP_FILE).trim();
            if (!TAP_NAME.matcher(tap).matches()) {
                throw new HypervisorException("The nic file " + file + " does not name a network interface");
            }
            return tap;
        } catch (IOException e) {
            throw new HypervisorException("Failed to read the nic file " + file + ": " + e, e);
        }
    }

    /** The uid file: the pool uid QEMU of {@code name} runs under, released at clean-up. */
    public void saveUid(String name, long uid) throws HypervisorException {
        try {
            AtomicFiles.write(paths.confined(paths.uidFile(name)), Long.toString(uid));
        } catch (IOException e) {
            throw new HypervisorException("Failed to write the uid file of " + name + ": " + e, e);
        }
    }

    /** Whether anything of {@code name} is in the runtime directory (a file, a socket, its nic or chroot directory). */
    public boolean hasState(String name) {
        for (Path p : List.of(paths.runtimeFile(name), paths.pendingFile(name), paths.pidFile(name), paths.uidFile(name),
                paths.nicDir(name),
                paths.chrootDir(name), paths.qmpSocket(name), paths.monitorSocket(name), paths.serialSocket(name),
                paths.serialLog(name), paths.qemuLog(name))) {
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Instances with a runtime, pid, uid file or nic directory (QEMU ≥ 3.1 deletes its pid file on
     * exit, Ganeti #1440, so the runtime file is what marks a stopped instance).
     */
    public List<String> knownNames() {
        TreeSet<String> names = new TreeSet<>();
        collect(paths.confDir(), ".runtime", names);
        collect(paths.pidDir(), "", names);
        // what a cleanup that could not finish left (e.g. a uid file while no uid pool was there)
        collect(paths.uidDir(), "", names);
        collect(paths.nicDir(), "", names);
        return new ArrayList<>(names);
    }

    private static void collect(Path dir, String suffix, TreeSet<String> into) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                if (n.startsWith(".") || !n.endsWith(suffix)) {
                    continue;
                }
                String name = n.substring(0, n.length() - suffix.length());
                if (Instance.isValidName(name)) {
                    into.add(name);
                }
            }
        } catch (IOException e) {
            // a missing directory lists nothing
        }
    }
}
