package org.hvkit.kvm.internal.migration;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A node's tuning of the migration capabilities Ganeti's {@code migration_caps} switches on for
 * busy guests (issue #15; docs/configuration.md): how many parallel streams {@code multifd} opens
 * ({@code multifd-channels}, QEMU's default 2) and how large {@code xbzrle}'s cache of already-sent
 * pages is ({@code xbzrle-cache-size}, QEMU's default 64 MiB). Ganeti 3.0 has no parameter for
 * either (it leaves QEMU's defaults), so they are node configuration keys, not hvparams: a
 * value only takes effect for a migration whose {@code migration_caps} has that capability,
 * and 0 (the default) leaves QEMU's own value.
 *
 * @param multifdChannels 0, or 1..255 streams; set on the target when it accepts and on the
 *                        source before it migrates (both sides must agree)
 * @param xbzrleCacheMiB  0, or 1..65536 MiB on the source
 */
public record MigrationTuning(int multifdChannels, int xbzrleCacheMiB) {

    public static final String MULTIFD_CHANNELS = "migration.multifd.channels";
    public static final String XBZRLE_CACHE_MIB = "migration.xbzrle.cache.mib";
    /** QEMU's own values everywhere. */
    public static final MigrationTuning DEFAULTS = new MigrationTuning(0, 0);

    public MigrationTuning {
        if (multifdChannels < 0 || multifdChannels > 255 || xbzrleCacheMiB < 0 || xbzrleCacheMiB > 65536) {
            throw new IllegalArgumentException("multifd channels 0..255, xbzrle cache 0..65536 MiB");
        }
    }

    /**
     * The tuning of a node configuration: a key left out (or 0) keeps QEMU's value; anything but a
     * whole number within the key's range fails naming the key and the range.
     */
    public static MigrationTuning from(Map<String, ?> properties, String pid) {
        return new MigrationTuning(number(properties, pid, MULTIFD_CHANNELS, 255, "streams"),
                number(properties, pid, XBZRLE_CACHE_MIB, 65536, "MiB"));
    }

    private static int number(Map<String, ?> properties, String pid, String key, int max, String unit) {
        Object raw = properties.get(key);
        if (raw == null) {
            return 0;
        }
        String text = raw instanceof Number n && !(raw instanceof Double || raw instanceof Float)
                ? Long.toString(n.longValue()) : raw.toString().trim();
        if (text.matches("[0-9]{1,6}") && Integer.parseInt(text) <= max) {
            return Integer.parseInt(text);
        }
        throw new IllegalArgumentException(pid + ": " + key + " must be 0 (QEMU's default) or a whole number of "
                + unit + " from 1 to " + max + ", got '" + raw + "'");
    }

    /**
     * What {@code migrate-set-parameters} gets for a migration with {@code capabilities} on the
     * source: the values whose capability is among them, in QEMU's spelling for that capability
     * ({@code x-multifd} of QEMU 2.11–3.1 took {@code x-multifd-channels}).
     */
    public Map<String, Object> sourceParameters(List<String> capabilities) {
        Map<String, Object> out = new LinkedHashMap<>(targetParameters(capabilities));
        if (xbzrleCacheMiB > 0 && capabilities.contains("xbzrle")) {
            out.put("xbzrle-cache-size", xbzrleCacheMiB * 1024L * 1024L);
        }
        return out;
    }

    /** What the target needs to agree on: the number of multifd streams it waits for. */
    public Map<String, Object> targetParameters(List<String> capabilities) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (multifdChannels > 0) {
            if (capabilities.contains("multifd")) {
                out.put("multifd-channels", multifdChannels);
            } else if (capabilities.contains("x-multifd")) {
                out.put("x-multifd-channels", multifdChannels);
            }
        }
        return out;
    }
}
