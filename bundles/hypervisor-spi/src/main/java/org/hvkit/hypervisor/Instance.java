package org.hvkit.hypervisor;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An instance definition as the cluster hands it to a hypervisor (Ganeti's instance object,
 * reduced to what hypervisors read). Immutable; build with {@link #builder(String)}.
 *
 * @param name         the instance name (an FQDN in Ganeti); also used in file names
 * @param primaryNode  the node the instance runs on
 * @param hypervisor   the hypervisor type, e.g. {@code kvm}; may be empty
 * @param hvparams     hypervisor parameters (the instance's own or already filled)
 * @param beparams     memory and vcpus
 * @param nics         network interfaces in order
 * @param disks        disks in order
 * @param diskTemplate the disk template, one of {@link #DISK_TEMPLATES}
 * @param networkPort  the instance's network port (VNC), 0 when none
 * @param tags         instance tags
 * @param uuid         the instance uuid, may be empty
 */
public record Instance(String name, String primaryNode, String hypervisor, Map<String, Object> hvparams,
                       BackendParams beparams, List<Nic> nics, List<Disk> disks, String diskTemplate,
                       int networkPort, List<String> tags, String uuid) implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Ganeti's disk templates. */
    public static final List<String> DISK_TEMPLATES = List.of(
            "diskless", "file", "sharedfile", "plain", "drbd", "rbd", "blockdev", "ext", "gluster");

    /** Dot-separated labels, each starting with a letter or digit; the length is checked apart. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*(\\.[A-Za-z0-9][A-Za-z0-9_-]*)*");
    private static final int NAME_MAX = 63;
    /** What {@link #isValidName} demands, as error messages state it. */
    static final String NAME_RULE = "1-63 characters: letters, digits, '.', '_', '-', starting with a letter or digit;"
            + " every label between dots is non-empty and starts with a letter or digit";
    private static final Set<String> TEMPLATE_SET = Set.copyOf(DISK_TEMPLATES);

    /**
     * Checks the name (see {@link #isValidName}), the NICs' MAC addresses (unique within the
     * instance; since 1.2) and the disk template.
     *
     * @throws IllegalArgumentException naming the offending value
     */
    public Instance {
        if (!isValidName(name)) {
            throw new IllegalArgumentException(invalidNameMessage(name));
        }
        primaryNode = primaryNode == null ? "" : primaryNode;
        hypervisor = hypervisor == null ? "" : hypervisor.toLowerCase(Locale.ROOT);
        hvparams = hvparams == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(hvparams));
        beparams = beparams == null ? BackendParams.DEFAULTS : beparams;
        nics = nics == null ? List.of() : List.copyOf(nics);
        int[] duplicate = duplicateMac(nics);
        if (duplicate != null) {
            throw new IllegalArgumentException("nics[" + duplicate[0] + "].mac: " + duplicateMacText(nics, duplicate));
        }
        disks = disks == null ? List.of() : List.copyOf(disks);
        diskTemplate = diskTemplate == null || diskTemplate.isEmpty() ? "diskless" : diskTemplate;
        if (!TEMPLATE_SET.contains(diskTemplate)) {
            throw new IllegalArgumentException("unknown disk template " + Texts.quote(diskTemplate) + " (allowed: "
                    + String.join(", ", DISK_TEMPLATES) + ")");
        }
        if (networkPort < 0 || networkPort > 65535) {
            throw new IllegalArgumentException("network port out of range 0..65535: " + networkPort);
        }
        tags = tags == null ? List.of() : List.copyOf(tags);
        uuid = uuid == null ? "" : uuid;
    }

    /**
     * Whether {@code name} can name an instance. Names end up in file names, socket paths and
     * QEMU's {@code -name}, so they are restricted to a hostname-like label sequence: 1 to 63
     * characters, letters, digits, {@code '.'}, {@code '_'} and {@code '-'}, where every label
     * between dots is non-empty and starts with a letter or digit. So {@code "."},
     * {@code ".."}, {@code "a..b"}, {@code "a."}, {@code "a.-b"}, {@code "-a"} and anything
     * with {@code '/'} or a control character are invalid. (Since 1.2 empty labels and labels
     * starting with {@code '_'} or {@code '-'} are refused; 1.1 refused only a trailing dot.)
     */
    public static boolean isValidName(String name) {
        return name != null && !name.isEmpty() && name.length() <= NAME_MAX && NAME.matcher(name).matches();
    }

    /**
     * The boundary check for every method that takes an instance name (see {@link Hypervisor}):
     * returns {@code name} when it is {@linkplain #isValidName valid}, throws otherwise. The
     * message quotes the name with control characters escaped (<code>&#92;u0000</code>) and long names
     * truncated, e.g. {@code Invalid instance name '../../srv/victim': 1-63 characters: letters,
     * digits, '.', '_', '-', starting with a letter or digit; every label between dots is
     * non-empty and starts with a letter or digit}. Since 1.2.
     *
     * @return {@code name}
     * @throws HypervisorException when {@code name} is null or invalid
     */
    public static String requireValidName(String name) throws HypervisorException {
        if (!isValidName(name)) {
            throw new HypervisorException(invalidNameMessage(name));
        }
        return name;
    }

    private static String invalidNameMessage(String name) {
        return "Invalid instance name " + Texts.quote(name) + ": " + NAME_RULE;
    }

    /**
     * The first NIC whose MAC address an earlier NIC already uses and that earlier NIC, as
     * {@code {index, earlier index}}; null when all MAC addresses differ.
     */
    static int[] duplicateMac(List<Nic> nics) {
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < nics.size(); i++) {
            Integer first = seen.putIfAbsent(nics.get(i).mac(), i);
            if (first != null) {
                return new int[] {i, first};
            }
        }
        return null;
    }

    /** {@code aa:00:00:00:00:01 is already used by nics[0]} for a {@link #duplicateMac} result. */
    static String duplicateMacText(List<Nic> nics, int[] duplicate) {
        return nics.get(duplicate[0]).mac() + " is already used by nics[" + duplicate[1] + "]";
    }

    /** A builder pre-filled from this instance. */
    public Builder toBuilder() {
        return new Builder(name).primaryNode(primaryNode).hypervisor(hypervisor).hvparams(hvparams)
                .beparams(beparams).nics(nics).disks(disks).diskTemplate(diskTemplate)
                .networkPort(networkPort).tags(tags).uuid(uuid);
    }

    /** A copy with other hypervisor parameters. */
    public Instance withHvparams(Map<String, ?> newHvparams) {
        return toBuilder().hvparams(newHvparams).build();
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Builds {@link Instance}s; every field but the name has a default. */
    public static final class Builder {
        private final String name;
        private String primaryNode = "";
        private String hypervisor = "";
        private final Map<String, Object> hvparams = new LinkedHashMap<>();
        private BackendParams beparams = BackendParams.DEFAULTS;
        private final List<Nic> nics = new ArrayList<>();
        private final List<Disk> disks = new ArrayList<>();
        private String diskTemplate = "diskless";
        private int networkPort;
        private final List<String> tags = new ArrayList<>();
        private String uuid = "";

        private Builder(String name) {
            this.name = name;
        }

        public Builder primaryNode(String v) { this.primaryNode = v; return this; }
        public Builder hypervisor(String v) { this.hypervisor = v; return this; }
        public Builder hvparams(Map<String, ?> v) { hvparams.clear(); hvparams.putAll(v); return this; }
        public Builder hvparam(String key, Object value) { hvparams.put(key, value); return this; }
        public Builder beparams(BackendParams v) { this.beparams = Objects.requireNonNull(v); return this; }
        public Builder memory(int mib) { this.beparams = new BackendParams(mib, beparams.vcpus()); return this; }
        public Builder vcpus(int n) { this.beparams = new BackendParams(beparams.memory(), n); return this; }
        public Builder nics(List<Nic> v) { nics.clear(); nics.addAll(v); return this; }
        public Builder nic(Nic v) { nics.add(v); return this; }
        public Builder disks(List<Disk> v) { disks.clear(); disks.addAll(v); return this; }
        public Builder disk(Disk v) { disks.add(v); return this; }
        public Builder diskTemplate(String v) { this.diskTemplate = v; return this; }
        public Builder networkPort(int v) { this.networkPort = v; return this; }
        public Builder tags(List<String> v) { tags.clear(); tags.addAll(v); return this; }
        public Builder uuid(String v) { this.uuid = v; return this; }

        public Instance build() {
            return new Instance(name, primaryNode, hypervisor, hvparams, beparams, nics, disks, diskTemplate,
                    networkPort, tags, uuid);
        }
    }
}
