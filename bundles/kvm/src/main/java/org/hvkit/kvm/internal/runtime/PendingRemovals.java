package org.hvkit.kvm.internal.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.hvkit.hypervisor.AtomicFiles;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.ParameterCheck;

/**
 * The hot-removals of an instance's QEMU process that wait for the guest to let go
 * ({@code conf/<name>.pending}): written when a removal becomes pending and when one ends, so
 * that a component that takes the node over (a bundle update, a restart of the JVM) finishes
 * them as the one that asked would have. The file concerns one QEMU process (its pid is in it);
 * it goes with the instance's other resources ({@link InstanceCleaner#releaseResources}).
 *
 * <p>It is input like any file of the runtime directory: bounded, and every field checked
 * (the slot a PCI slot, the key a MAC or an absolute normalized path, the device and backend a
 * pair of the ids hvkit gives: {@code nic<i>}/{@code netdev<i>} and {@code virtio-disk<i>}/{@code
 * disk<i>} on the command line, {@code hotnic<slot>}/{@code hotnet<slot>} and {@code
 * virtio-hotdisk<slot>}/{@code hotdisk<slot>} when hot-added) — a damaged file cannot name
 * another device's backend for removal. The driver checks the rest against the runtime and the
 * bus before it takes a removal over.
 */
public final class PendingRemovals {

    /** The most a file may hold (far more than 32 slots of removals take). */
    public static final int MAX_FILE_BYTES = 64 << 10;
    private static final int MAX_REMOVALS = 32;
    private static final int MAX_KEY = 4096;
    /** QEMU's id rule (a letter, then letters, digits, '-', '.', '_'), bounded. */
    private static final Pattern QEMU_ID = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,127}");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** The kinds of device a removal concerns; the key is the NIC's MAC or the disk's dev_path. */
    public static final String NIC = "nic";
    public static final String DISK = "disk";

    /** One removal: the device's PCI slot, its id and backend, its kind and key. */
    public record Removal(int slot, String device, String backend, String kind, String key) {
        public Removal {
            if (slot < 0 || slot > 31) {
                throw new IllegalArgumentException("slot " + slot + " is not a PCI slot (0-31)");
            }
            if (device == null || !QEMU_ID.matcher(device).matches()) {
                throw new IllegalArgumentException("device is not a QEMU id");
            }
            if (backend == null || !QEMU_ID.matcher(backend).matches()) {
                throw new IllegalArgumentException("backend is not a QEMU id");
            }
            if (NIC.equals(kind)) {
                if (key == null || !Nic.isValidMac(key)) {
                    throw new IllegalArgumentException("key of a nic removal is not a MAC address");
                }
                if (!paired(device, "nic", backend, "netdev", "hotnic" + slot, "hotnet" + slot)) {
                    throw new IllegalArgumentException("device " + device + " and backend " + backend + " are not the"
                            + " ids of one NIC at slot " + slot + " (nic<i> and netdev<i>, or hotnic" + slot
                            + " and hotnet" + slot + ")");
                }
            } else if (DISK.equals(kind)) {
                if (key == null || key.length() > MAX_KEY || !ParameterCheck.isAbsoluteNormalizedPath(key)) {
                    throw new IllegalArgumentException("key of a disk removal is not an absolute normalized path");
                }
                if (!paired(device, "virtio-disk", backend, "disk", "virtio-hotdisk" + slot, "hotdisk" + slot)) {
                    throw new IllegalArgumentException("device " + device + " and backend " + backend + " are not the"
                            + " ids of one disk at slot " + slot + " (virtio-disk<i> and disk<i>, or virtio-hotdisk"
                            + slot + " and hotdisk" + slot + ")");
                }
            } else {
                throw new IllegalArgumentException("kind must be nic or disk");
            }
        }

        /** {@code <devicePrefix><i>} with {@code <backendPrefix><i>}, or exactly the hot-added pair. */
        private static boolean paired(String device, String devicePrefix, String backend, String backendPrefix,
                                      String hotDevice, String hotBackend) {
            if (device.equals(hotDevice)) {
                return backend.equals(hotBackend);
            }
            String index = device.startsWith(devicePrefix) ? device.substring(devicePrefix.length()) : "";
            return index.matches("[0-9]{1,3}") && backend.equals(backendPrefix + index);
        }
    }

    /** A file's content: the QEMU process the removals concern, and the removals. */
    public record Saved(long pid, List<Removal> removals) {
    }

    private final RuntimePaths paths;

    public PendingRemovals(RuntimePaths paths) {
        this.paths = paths;
    }

    /** Writes the removals of {@code name}'s QEMU {@code pid} (atomically); none removes the file. */
    public void save(String name, long pid, List<Removal> removals) throws HypervisorException {
        if (removals.isEmpty()) {
            remove(name);
            return;
        }
        ObjectNode root = MAPPER.createObjectNode();
        root.put("pid", pid);
        ArrayNode list = root.putArray("removals");
        for (Removal r : removals) {
            list.addObject().put("slot", r.slot()).put("device", r.device()).put("backend", r.backend())
                    .put("kind", r.kind()).put("key", r.key());
        }
        Path file = paths.confined(paths.pendingFile(name));
        try {
            AtomicFiles.write(file, root.toString());
        } catch (IOException e) {
            throw new HypervisorException("Failed to write the pending removals of " + name + " to " + file + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * The pending removals saved for {@code name}, if there is a file.
     *
     * @throws HypervisorException naming the file and the field when it is damaged
     */
    public Optional<Saved> load(String name) throws HypervisorException {
        Path file = paths.pendingFile(name);
        String text;
        try {
            text = SafeFiles.read(file, MAX_FILE_BYTES);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new HypervisorException("Failed to read the pending removals file " + file + ": " + e.getMessage(), e);
        }
        return Optional.of(parse(text, file.toString()));
    }

    static Saved parse(String text, String source) throws HypervisorException {
        String bad = "The pending removals file " + source + " is damaged: ";
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new HypervisorException(bad + "not JSON (" + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject() || !root.path("pid").canConvertToLong() || !root.path("pid").isIntegralNumber()
                || root.path("pid").asLong() <= 0) {
            throw new HypervisorException(bad + "pid must be a positive integer");
        }
        JsonNode list = root.path("removals");
        if (!list.isArray() || list.isEmpty() || list.size() > MAX_REMOVALS) {
            throw new HypervisorException(bad + "removals must be a list of 1 to " + MAX_REMOVALS + " removals");
        }
        List<Removal> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode r = list.get(i);
            if (!r.path("slot").isInt() || !r.path("device").isTextual() || !r.path("backend").isTextual()
                    || !r.path("kind").isTextual() || !r.path("key").isTextual()) {
                throw new HypervisorException(bad + "removals[" + i + "] must have an integer slot and the strings"
                        + " device, backend, kind and key");
            }
            try {
                out.add(new Removal(r.get("slot").asInt(), r.get("device").asText(), r.get("backend").asText(),
                        r.get("kind").asText(), r.get("key").asText()));
            } catch (IllegalArgumentException e) {
                throw new HypervisorException(bad + "removals[" + i + "]." + e.getMessage());
            }
        }
        return new Saved(root.get("pid").asLong(), List.copyOf(out));
    }

    /** Removes {@code name}'s file, if any. */
    public void remove(String name) throws HypervisorException {
        Path file = paths.confined(paths.pendingFile(name));
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new HypervisorException("Failed to remove the pending removals file " + file + ": " + e.getMessage(), e);
        }
    }
}
