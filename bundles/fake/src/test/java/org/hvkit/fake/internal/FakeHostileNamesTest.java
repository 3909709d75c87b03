package org.hvkit.fake.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every method of the fake hypervisor that takes a name refuses a hostile one before it
 * touches the filesystem: victims wait where a careless implementation would read or delete.
 */
class FakeHostileNamesTest {

    private static final String RULE = "1-63 characters: letters, digits, '.', '_', '-', starting with a letter or"
            + " digit; every label between dots is non-empty and starts with a letter or digit";

    /** The name and the exact refusal. */
    private static final Map<String, String> HOSTILE = hostile();

    private static Map<String, String> hostile() {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("../../../../srv/victim", "Invalid instance name '../../../../srv/victim': " + RULE);
        m.put("", "Invalid instance name '': " + RULE);
        m.put("a/b", "Invalid instance name 'a/b': " + RULE);
        m.put("a".repeat(300), "Invalid instance name '" + "a".repeat(64) + "'... (300 characters): " + RULE);
        m.put("x\u0000y", "Invalid instance name 'x\\u0000y': " + RULE);
        m.put("..", "Invalid instance name '..': " + RULE);
        m.put(".", "Invalid instance name '.': " + RULE);
        m.put("a..b", "Invalid instance name 'a..b': " + RULE);
        m.put(null, "Invalid instance name null: " + RULE);
        return m;
    }

    private interface NameCall {
        Object call(FakeHypervisor hv, String name) throws Exception;
    }

    /** Every name-taking method. */
    private static final Map<String, NameCall> METHODS = Map.of(
            "instanceInfo", FakeHypervisor::instanceInfo,
            "runningInstance", FakeHypervisor::runningInstance,
            "stopInstanceByName", (hv, n) -> {
                hv.stopInstanceByName(n);
                return null;
            },
            "cleanupInstance", (hv, n) -> {
                hv.cleanupInstance(n);
                return null;
            });

    @TempDir
    Path tmp;

    private Path stateDir;
    private FakeHypervisor hv;

    /**
     * The state directory is four levels deep, so that {@code ../../../../srv/victim} names
     * {@code tmp/srv/victim.json}; that file, {@code a/b.json} and {@code .json} below the state
     * directory are real instance states a careless implementation would report or remove.
     */
    @BeforeEach
    void victims() throws Exception {
        stateDir = tmp.resolve("d1/d2/d3/d4");
        hv = new FakeHypervisor("n", stateDir);
        new FakeHypervisor("n", tmp.resolve("srv")).startInstance(Instance.builder("victim").build(), false);
        new FakeHypervisor("n", stateDir.resolve("a")).startInstance(Instance.builder("b").build(), false);
        Files.copy(stateDir.resolve("a/b.json"), stateDir.resolve(".json"));
        hv.startInstance(Instance.builder("own").build(), false);
    }

    /** Every file below tmp with its size and modification time. */
    private Map<String, String> snapshot() throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> all = Files.walk(tmp)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                FileTime mtime = Files.getLastModifiedTime(p);
                files.put(tmp.relativize(p).toString(), Files.isDirectory(p) ? "dir " + mtime
                        : Files.size(p) + " " + mtime + " " + Arrays.hashCode(Files.readAllBytes(p)));
            }
        }
        return files;
    }

    @Test
    void everyNameTakingMethodRefusesHostileNamesBeforeTouchingAnything() throws Exception {
        Map<String, String> before = snapshot();
        assertTrue(before.containsKey("srv/victim.json") && before.containsKey("d1/d2/d3/d4/a/b.json")
                && before.containsKey("d1/d2/d3/d4/.json"), before.toString());
        int checked = 0;
        for (Map.Entry<String, NameCall> method : METHODS.entrySet()) {
            for (Map.Entry<String, String> bad : HOSTILE.entrySet()) {
                String what = method.getKey() + "(" + bad.getKey() + ")";
                HypervisorException e = assertThrows(HypervisorException.class,
                        () -> method.getValue().call(hv, bad.getKey()), what);
                assertEquals(bad.getValue(), e.getMessage(), what);
                checked++;
            }
        }
        assertEquals(4 * 9, checked);
        assertEquals(before, snapshot(), "no file created, changed or removed");
        assertEquals(List.of("own"), hv.knownInstances());
    }

    @Test
    void theVictimsAreReachableWithoutTheCheck() throws Exception {
        // proves the set-up: the traversal really lands on the victims the test guards
        assertTrue(Files.isSameFile(stateDir.resolve("../../../../srv/victim.json"), tmp.resolve("srv/victim.json")));
        assertTrue(Files.isRegularFile(stateDir.resolve("a/b.json")));
        assertTrue(Files.isRegularFile(stateDir.resolve(".json")));
    }

    @Test
    void validNamesStillWork() throws Exception {
        assertEquals("own", Optional.ofNullable(hv.instanceInfo("own")).orElseThrow().name());
        assertEquals("own", Optional.ofNullable(hv.runningInstance("own")).orElseThrow().name());
        hv.stopInstanceByName("own");
        hv.cleanupInstance("own");
        assertEquals(List.of(), hv.knownInstances());
    }
}
