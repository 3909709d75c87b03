package org.hvkit.kvm.internal.caps;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a QEMU binary supports, parsed from its {@code --help}: the version of the first line
 * (two or three numeric parts — Ganeti 2.4's {@code _GetKVMVersion} required three and broke on "1.0")
 * and the presence of each {@link QemuFeature}; for a QEMU with QMP, also what it said about
 * itself over QMP ({@link #qmp}, null otherwise), which then decides the version and every
 * feature QMP can tell ({@link QemuFeature#qmpOption}).
 */
public record QemuCapabilities(String versionText, int major, int minor, int micro, Set<QemuFeature> features,
                               QmpFacts qmp) {

    private static final Pattern VERSION = Pattern.compile("\\b(\\d+)\\.(\\d+)(\\.(\\d+))?\\b");

    public QemuCapabilities {
        features = features.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(features));
    }

    /** Capabilities from {@code --help} alone. */
    public QemuCapabilities(String versionText, int major, int minor, int micro, Set<QemuFeature> features) {
        this(versionText, major, minor, micro, features, null);
    }

    /**
     * These capabilities with what the binary said over QMP: QMP's version, and every feature
     * whose option QMP lists ({@link QemuFeature#qmpOption}) as QMP says; the flags QMP cannot
     * list stay as {@code --help} said.
     */
    public QemuCapabilities withQmp(QmpFacts facts) {
        EnumSet<QemuFeature> found = features.isEmpty() ? EnumSet.noneOf(QemuFeature.class) : EnumSet.copyOf(features);
        for (QemuFeature f : QemuFeature.values()) {
            Boolean said = f.inQmp(facts);
            if (said != null) {
                if (said) {
                    found.add(f);
                } else {
                    found.remove(f);
                }
            }
        }
        return new QemuCapabilities(versionText, facts.major(), facts.minor(), facts.micro(), found, facts);
    }

    /**
     * Parses {@code --help} output.
     *
     * @throws IllegalArgumentException "Unable to get KVM version" when the first line has no version
     */
    public static QemuCapabilities parse(String help) {
        String first = help.lines().findFirst().orElse("");
        Matcher m = VERSION.matcher(first);
        if (!m.find()) {
            throw new IllegalArgumentException("Unable to get KVM version from the first line of --help: '" + first + "'");
        }
        EnumSet<QemuFeature> found = EnumSet.noneOf(QemuFeature.class);
        List<String> entries = QemuFeature.entries(help);
        for (QemuFeature f : QemuFeature.values()) {
            if (f.presentIn(entries)) {
                found.add(f);
            }
        }
        return new QemuCapabilities(m.group(0), Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                m.group(4) == null ? 0 : Integer.parseInt(m.group(4)), found);
    }

    public boolean has(QemuFeature f) {
        return features.contains(f);
    }

    /** Whether the version is at least {@code major.minor}. */
    public boolean atLeast(int maj, int min) {
        return major > maj || (major == maj && minor >= min);
    }

    /**
     * Whether socket chardevs take a listening descriptor ({@code -chardev socket,fd=N,server=on}),
     * so that hvkit binds the monitor, QMP and serial sockets itself and the length of root.dir
     * never matters (libvirt passes its monitor sockets the same way). QEMU gained {@code fd=}
     * for socket chardevs in 2.12 (not visible in {@code --help}); verified on 7.2.
     */
    public boolean socketDescriptors() {
        return atLeast(2, 12) && has(QemuFeature.QMP) && has(QemuFeature.CHARDEV_LOGFILE);
    }

    /** The paravirtual NIC model: {@code virtio-net-pci} with -netdev (kvm ≥ 0.12), else {@code virtio}. */
    public String paravirtualNicModel() {
        return has(QemuFeature.NETDEV) ? "virtio-net-pci" : "virtio";
    }

    @Override
    public String toString() {
        return "QEMU " + major + "." + minor + "." + micro + " " + features + (qmp == null ? "" : " (probed over QMP)");
    }
}
