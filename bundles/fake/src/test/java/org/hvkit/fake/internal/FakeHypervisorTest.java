package org.hvkit.fake.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import org.hvkit.hypervisor.ConsoleKind;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.MigrationCoordinator;
import org.hvkit.hypervisor.MigrationInfo;
import org.hvkit.hypervisor.MigrationStatus;
import org.hvkit.hypervisor.ParameterException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FakeHypervisorTest {

    @TempDir
    Path tmp;

    private static Instance instance(String name) {
        return Instance.builder(name).memory(256).vcpus(2).build();
    }

    /** The SPI's migration sequence on two real fake nodes: the target runs it, the source no more. */
    @Test
    void migrationCoordinatorMovesAnInstance() throws Exception {
        FakeHypervisor a = new FakeHypervisor("node-a", tmp.resolve("a"));
        FakeHypervisor b = new FakeHypervisor("node-b", tmp.resolve("b"));
        a.startInstance(instance("mover"), false);
        Instance running = Optional.ofNullable(a.runningInstance("mover")).orElseThrow();
        List<String> heard = new java.util.ArrayList<>();
        MigrationCoordinator.migrate(a, b, running, "127.0.0.1", true, st -> heard.add(st.status().name()));
        assertEquals(List.of(), a.listInstances());
        assertEquals(List.of("mover"), b.listInstances());
    }

    /** A failure aborts the target (finalize with success=false): nothing is left there, the source runs on. */
    @Test
    void migrationCoordinatorAbortsTheTargetOnFailure() throws Exception {
        FakeHypervisor a = new FakeHypervisor("node-a", tmp.resolve("a"));
        FakeHypervisor b = new FakeHypervisor("node-b", tmp.resolve("b"));
        a.startInstance(instance("stays"), false);
        Instance running = Optional.ofNullable(a.runningInstance("stays")).orElseThrow();
        b.startInstance(instance("stays"), false); // the target already runs one: accept refuses
        HypervisorException e = assertThrows(HypervisorException.class,
                () -> MigrationCoordinator.migrate(a, b, running, "127.0.0.1", true, st -> { }));
        assertTrue(e.getMessage().contains("stays"), e.getMessage());
        assertEquals(List.of("stays"), a.listInstances(), "the source runs on");
    }

    @Test
    void lifecycle() throws Exception {
        FakeHypervisor hv = new FakeHypervisor("node-a", tmp.resolve("a"));
        assertEquals(List.of(), hv.listInstances());
        hv.startInstance(instance("i1"), false);
        hv.startInstance(instance("i2"), true);
        assertEquals(List.of("i1", "i2"), hv.listInstances());
        assertEquals(new InstanceInfo("i1", -1, 256, 2, InstanceState.RUNNING, 0), Optional.ofNullable(hv.instanceInfo("i1")).orElseThrow());
        assertEquals(InstanceState.PAUSED, Optional.ofNullable(hv.instanceInfo("i2")).orElseThrow().state());
        assertEquals("node-a", Optional.ofNullable(hv.runningInstance("i1")).orElseThrow().primaryNode());
        assertEquals(Map.of("migration_mode", "live"), Optional.ofNullable(hv.runningInstance("i1")).orElseThrow().hvparams());

        HypervisorException e = assertThrows(HypervisorException.class, () -> hv.startInstance(instance("i1"), false));
        assertEquals("Failed to start instance i1: already running", e.getMessage());
        e = assertThrows(HypervisorException.class, () -> hv.cleanupInstance("i1"));
        assertEquals("Cannot cleanup a live instance i1", e.getMessage());

        hv.rebootInstance(instance("i2"));
        assertEquals(InstanceState.RUNNING, Optional.ofNullable(hv.instanceInfo("i2")).orElseThrow().state());

        hv.stopInstance(instance("i1"), false, Duration.ofSeconds(1));
        assertEquals(List.of("i2"), hv.listInstances());
        assertTrue(Optional.ofNullable(hv.instanceInfo("i1")).isEmpty());
        e = assertThrows(HypervisorException.class, () -> hv.stopInstanceByName("i1"));
        assertEquals("Failed to stop instance i1: not running", e.getMessage());
        hv.cleanupInstance("i1");
        try (Stream<Path> files = Files.list(tmp.resolve("a"))) {
            assertEquals(List.of("i2.json"), files.map(p -> p.getFileName().toString()).toList(),
                    "no temp files left behind");
        }
    }

    @Test
    void stateSurvivesANewComponent() throws Exception {
        new FakeHypervisor("n", tmp).startInstance(instance("kept"), false);
        FakeHypervisor again = new FakeHypervisor("n", tmp);
        assertEquals(List.of("kept"), again.listInstances());
        assertEquals(256, Optional.ofNullable(again.instanceInfo("kept")).orElseThrow().memoryMiB());
    }

    @Test
    void badParametersStartNothing() throws HypervisorException {
        FakeHypervisor hv = new FakeHypervisor("n", tmp);
        ParameterException e = assertThrows(ParameterException.class,
                () -> hv.startInstance(instance("x").withHvparams(Map.of("kernel_path", "/boot/x")), false));
        assertEquals("Parameter 'kernel_path' is not supported", e.getMessage());
        e = assertThrows(ParameterException.class,
                () -> hv.startInstance(instance("x").withHvparams(Map.of("migration_mode", "sideways")), false));
        assertEquals("Parameter 'migration_mode' fails syntax check: invalid migration mode (current value: 'sideways')",
                e.getMessage());
        assertTrue(Optional.ofNullable(hv.instanceInfo("x")).isEmpty());
    }

    @Test
    void badParameterTypesStartNothing() throws HypervisorException {
        FakeHypervisor hv = new FakeHypervisor("n", tmp);
        ParameterException e = assertThrows(ParameterException.class,
                () -> hv.startInstance(instance("x").withHvparams(Map.of("migration_mode", 1L)), false));
        assertEquals("Parameter 'migration_mode' must be of type string (current value: 1, a number)", e.getMessage());
        e = assertThrows(ParameterException.class,
                () -> hv.startInstance(instance("x").withHvparams(Map.of("migration_mod", "live")), false));
        assertEquals("Parameter 'migration_mod' is not supported (did you mean 'migration_mode'?)", e.getMessage());
        assertEquals(List.of(), hv.knownInstances());
    }

    @Test
    void corruptStateFileIsKnownButNotAlive() throws Exception {
        Files.writeString(tmp.resolve("junk.json"), "{not json");
        FakeHypervisor hv = new FakeHypervisor("n", tmp);
        hv.startInstance(instance("ok"), false);
        assertTrue(Optional.ofNullable(hv.instanceInfo("junk")).isEmpty());
        assertTrue(Optional.ofNullable(hv.runningInstance("junk")).isEmpty());
        assertEquals(List.of("ok"), hv.allInstancesInfo().stream().map(InstanceInfo::name).toList());
        assertEquals(List.of("ok"), hv.listInstances());
        assertEquals(List.of("junk", "ok"), hv.knownInstances());
        hv.cleanupInstance("junk");
        assertFalse(Files.exists(tmp.resolve("junk.json")), "cleanup removes the unreadable state");
        assertEquals(List.of("ok"), hv.knownInstances());
    }

    @Test
    void stateFilesWithoutAnInstanceNameAreNotListed() throws Exception {
        FakeHypervisor hv = new FakeHypervisor("n", tmp);
        hv.startInstance(instance("ok"), false);
        Files.copy(tmp.resolve("ok.json"), tmp.resolve("a..b.json"));
        Files.copy(tmp.resolve("ok.json"), tmp.resolve("-x.json"));
        assertEquals(List.of("ok"), hv.listInstances());
        assertEquals(List.of("ok"), hv.knownInstances());
    }

    @Test
    void knownInstancesIncludeMigratedAwayUntilCleanup() throws Exception {
        FakeHypervisor a = new FakeHypervisor("node-a", tmp.resolve("a"));
        Instance i = instance("mover");
        a.startInstance(i, false);
        a.startInstance(instance("stays"), false);
        assertEquals(List.of("mover", "stays"), a.knownInstances());
        a.migrateInstance(i, "127.0.0.1", true);
        assertEquals(List.of("stays"), a.listInstances());
        assertEquals(List.of("mover", "stays"), a.knownInstances(), "the migration record is runtime state");
        a.cleanupInstance("mover");
        assertEquals(List.of("stays"), a.knownInstances());
        assertEquals(MigrationStatus.State.NONE, a.migrationStatus(i).status());
    }

    @Test
    void finalizeRefusesMigrationDataOfAnotherInstance() throws Exception {
        FakeHypervisor a = new FakeHypervisor("node-a", tmp.resolve("a"));
        FakeHypervisor b = new FakeHypervisor("node-b", tmp.resolve("b"));
        a.startInstance(instance("one"), false);
        MigrationInfo info = a.migrationInfo(instance("one"));
        HypervisorException e = assertThrows(HypervisorException.class,
                () -> b.finalizeMigration(instance("two"), info, true));
        assertEquals("Cannot finalize the migration of instance two: the migration data describes instance one",
                e.getMessage());
        assertEquals(List.of(), b.knownInstances());
    }

    @Test
    void migrationBetweenTwoNodes() throws Exception {
        FakeHypervisor a = new FakeHypervisor("node-a", tmp.resolve("a"));
        FakeHypervisor b = new FakeHypervisor("node-b", tmp.resolve("b"));
        Instance i = instance("mover");
        a.startInstance(i, false);
        MigrationInfo info = a.migrationInfo(i);
        b.acceptInstance(i, info, "127.0.0.1");
        a.migrateInstance(i, "127.0.0.1", true);
        b.finalizeMigration(i, info, true);
        assertEquals(List.of(), a.listInstances());
        assertEquals(List.of("mover"), b.listInstances());
        assertEquals("node-b", Optional.ofNullable(b.runningInstance("mover")).orElseThrow().primaryNode());
        MigrationStatus st = a.migrationStatus(i);
        assertEquals(MigrationStatus.State.COMPLETED, st.status());
        assertEquals(256L << 20, st.total());
        HypervisorException e = assertThrows(HypervisorException.class, () -> b.acceptInstance(i, info, "x"));
        assertEquals("Can't accept instance mover, already running", e.getMessage());
    }

    @Test
    void abortedMigrationDropsTarget() throws Exception {
        FakeHypervisor a = new FakeHypervisor("node-a", tmp.resolve("a"));
        FakeHypervisor b = new FakeHypervisor("node-b", tmp.resolve("b"));
        Instance i = instance("m");
        a.startInstance(i, false);
        MigrationInfo info = a.migrationInfo(i);
        b.finalizeMigration(i, info, true);
        b.finalizeMigration(i, info, false);
        assertFalse(b.listInstances().contains("m"));
        assertEquals(List.of("m"), a.listInstances(), "source untouched");
    }

    @Test
    void consoleAndVerify() throws Exception {
        FakeHypervisor hv = new FakeHypervisor("n", tmp);
        assertEquals(ConsoleKind.MESSAGE, hv.instanceConsole(instance("c")).kind());
        assertEquals(List.of(), hv.verify());
        assertTrue(hv.nodeInfo().memoryTotal() > 0);
    }

    @Test
    void relativeStateDirIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FakeHypervisor(new TestConfig("n", "run/fake")));
        assertEquals("org.hvkit.fake: state.dir must be an absolute normalized path, got 'run/fake'", e.getMessage());
    }

    private record TestConfig(String node, String dir) implements FakeConfiguration {
        @Override public String hypervisor_node() { return node; }
        @Override public String state_dir() { return dir; }
        @Override public Class<? extends java.lang.annotation.Annotation> annotationType() { return FakeConfiguration.class; }
    }
}
