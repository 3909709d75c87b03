package org.hvkit.uidpool.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.annotation.Annotation;
import java.nio.file.Files;
import java.nio.file.Path;

import org.hvkit.netdev.internal.FlockFileLocks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad configuration keeps the component inactive with one message naming the key and the reason. */
class UidPoolComponentTest {

    private record Config(String pool, String lock_dir) implements UidPoolConfiguration {
        @Override
        public Class<? extends Annotation> annotationType() {
            return UidPoolConfiguration.class;
        }
    }

    private static String error(String pool, String dir) {
        return assertThrows(IllegalArgumentException.class,
                () -> new UidPoolComponent(new FlockFileLocks(), new Config(pool, dir))).getMessage();
    }

    @Test
    void badConfigurations(@TempDir Path tmp) throws Exception {
        String dir = tmp.toString();
        assertEquals("org.hvkit.uidpool: pool '10-5' is invalid: Lower user-id range boundary value (10) is larger than"
                + " higher boundary value (5)", error("10-5", dir));
        assertEquals("org.hvkit.uidpool: pool 'abc' is invalid: Invalid user-id value for lower boundary of user-id"
                + " range: invalid literal for int() with base 10: 'abc'", error("abc", dir));
        assertEquals("org.hvkit.uidpool: pool is empty; give uids like '4000-4019, 4100'", error(" ", dir));
        assertEquals("org.hvkit.uidpool: lock.dir must be an absolute normalized path, got 'run/locks'",
                error("5", "run/locks"));
        Path file = Files.createFile(tmp.resolve("f"));
        String msg = error("5", file.resolve("locks").toString());
        assertEquals(true, msg.startsWith("org.hvkit.uidpool: lock.dir Failed to create user-id pool lock dir"), msg);
    }

    @Test
    void goodConfiguration(@TempDir Path tmp) throws Exception {
        UidPoolComponent c = new UidPoolComponent(new FlockFileLocks(), new Config("4000-4019,\n4100", tmp + "/locks"));
        assertEquals(21, c.size());
        assertEquals("4000-4019, 4100", org.hvkit.uidpool.UidRanges.format(c.ranges()));
        assertEquals(true, Files.isDirectory(tmp.resolve("locks")));
    }
}
