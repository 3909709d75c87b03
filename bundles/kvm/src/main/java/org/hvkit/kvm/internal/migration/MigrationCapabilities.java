package org.hvkit.kvm.internal.migration;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.monitor.QmpClient;
import org.hvkit.kvm.internal.monitor.QmpException;

/**
 * Ganeti 3.0's {@code migration_caps}: QEMU migration capabilities, colon-separated
 * ({@code _MIGRATION_CAPS_DELIM}), switched on on the target when it accepts and on the source
 * before it migrates ({@code _SetInstanceMigrationCapabilities}), checked first against what
 * this QEMU offers ({@code query-migrate-capabilities}), so that a typo is an error naming the
 * parameter and the capabilities there are — not QEMU's generic "Parameter 'capability' does
 * not accept value".
 */
public final class MigrationCapabilities {

    /** The capability whose presence lets a migration switch to post-copy (QEMU 2.5 spelt it x-postcopy-ram). */
    static final String POSTCOPY = "postcopy-ram";

    private MigrationCapabilities() {
    }

    /** The names in a {@code migration_caps} value (already syntax-checked), in order, without empties. */
    public static List<String> parse(String value) {
        List<String> out = new ArrayList<>();
        for (String c : value == null ? new String[0] : value.split(":")) {
            if (!c.isEmpty() && !out.contains(c)) {
                out.add(c);
            }
        }
        return out;
    }

    /** Whether the list asks for post-copy (either spelling). */
    static boolean postcopy(List<String> capabilities) {
        return capabilities.stream().anyMatch(c -> c.endsWith(POSTCOPY));
    }

    /**
     * Switches {@code capabilities} on (or off) on the QEMU behind {@code qmp}, with
     * {@code extra} (e.g. hvkit's own {@code events}) in the same command.
     *
     * @throws HypervisorException naming migration_caps and what QEMU offers when one is unknown
     */
    public static void set(QmpClient qmp, List<String> capabilities, boolean on, Map<String, Boolean> extra)
            throws HypervisorException {
        Map<String, Boolean> states = new LinkedHashMap<>(extra);
        if (!capabilities.isEmpty()) {
            TreeSet<String> offered = offered(qmp);
            for (String c : capabilities) {
                if (!offered.contains(c)) {
                    throw new HypervisorException("migration_caps: this QEMU has no migration capability '" + c
                            + "'; it has: " + String.join(", ", offered));
                }
                states.put(c, on);
            }
        }
        if (states.isEmpty()) {
            return;
        }
        List<Map<String, Object>> list = new ArrayList<>();
        states.forEach((c, s) -> list.add(Map.of("capability", c, "state", s)));
        qmp.execute("migrate-set-capabilities", Map.of("capabilities", list));
    }

    private static TreeSet<String> offered(QmpClient qmp) throws QmpException {
        TreeSet<String> out = new TreeSet<>();
        JsonNode r = qmp.execute("query-migrate-capabilities", Map.of());
        if (r.isArray()) {
            for (JsonNode c : r) {
                String name = c.path("capability").asText("");
                if (name.matches("[a-z0-9-]{1,64}")) {
                    out.add(name);
                }
            }
        }
        return out;
    }
}
