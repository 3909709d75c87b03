package org.hvkit.kvm.internal.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The node's tuning keys for multifd and xbzrle: ranges, errors naming the key, what each migration gets. */
class MigrationTuningTest {

    @Test
    void keysLeftOutOrZeroKeepQemusValues() {
        assertEquals(MigrationTuning.DEFAULTS, MigrationTuning.from(Map.of("root.dir", "/x"), "org.hvkit.kvm"));
        assertEquals(MigrationTuning.DEFAULTS, MigrationTuning.from(Map.of("migration.multifd.channels", "0",
                "migration.xbzrle.cache.mib", 0), "org.hvkit.kvm"));
        assertEquals(Map.of(), MigrationTuning.DEFAULTS.sourceParameters(List.of("multifd", "xbzrle")));
        assertEquals(new MigrationTuning(255, 65536), MigrationTuning.from(Map.of("migration.multifd.channels",
                " 255", "migration.xbzrle.cache.mib", 65536L), "org.hvkit.kvm"));
    }

    @Test
    void aBadValueNamesTheKeyAndTheRange() {
        for (Object bad : new Object[] {"256", "-1", "2.5", "four", "", 1.0, "9999999"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MigrationTuning.from(Map.of("migration.multifd.channels", bad), "org.hvkit.kvm"), "" + bad);
            assertEquals("org.hvkit.kvm: migration.multifd.channels must be 0 (QEMU's default) or a whole number of"
                    + " streams from 1 to 255, got '" + bad + "'", e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MigrationTuning.from(Map.of("migration.xbzrle.cache.mib", "65537"), "org.hvkit.kvm"));
        assertEquals("org.hvkit.kvm: migration.xbzrle.cache.mib must be 0 (QEMU's default) or a whole number of MiB"
                + " from 1 to 65536, got '65537'", e.getMessage());
    }

    @Test
    void aValueGoesOnlyToAMigrationWithItsCapabilityInQemusSpelling() {
        MigrationTuning t = new MigrationTuning(4, 128);
        assertEquals(Map.of(), t.sourceParameters(List.of("auto-converge")));
        assertEquals(Map.of("multifd-channels", 4), t.sourceParameters(List.of("multifd")));
        assertEquals(Map.of("multifd-channels", 4), t.targetParameters(List.of("multifd", "xbzrle")));
        assertEquals(Map.of("x-multifd-channels", 4), t.targetParameters(List.of("x-multifd")));
        assertEquals(Map.of("multifd-channels", 4, "xbzrle-cache-size", 128L << 20),
                t.sourceParameters(List.of("xbzrle", "multifd")));
        assertEquals(Map.of(), t.targetParameters(List.of("xbzrle")), "the cache is the source's alone");
    }
}
