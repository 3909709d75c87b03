package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

/** What {@link MigrationCoordinator} hands the target at finalize (issue #17: the source's figures). */
class MigrationCoordinatorTest {

    private final List<MigrationInfo> finalized = new CopyOnWriteArrayList<>();

    /** A hypervisor whose migration calls succeed and whose status answer is {@code status} (or throws it). */
    private Hypervisor node(Object status) {
        return (Hypervisor) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Hypervisor.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "canMigrate" -> true;
                    case "migrationInfo" -> new MigrationInfo("runtime");
                    case "migrationStatus" -> {
                        if (status instanceof RuntimeException e) {
                            throw e;
                        }
                        yield status;
                    }
                    case "finalizeMigration" -> {
                        if ((Boolean) args[2]) {
                            finalized.add((MigrationInfo) args[1]);
                        }
                        yield null;
                    }
                    case "type" -> "test";
                    case "node" -> "n";
                    default -> null;
                });
    }

    private static final MigrationCoordinator.Listener QUIET = status -> { };

    @Test
    void aSourceThatHangsDelaysTheTargetsFinalizeBoundedlyAndHandsNothing() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Hypervisor hanging = (Hypervisor) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Hypervisor.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "canMigrate" -> true;
                    case "migrationInfo" -> new MigrationInfo("runtime");
                    case "migrationStatus" -> {
                        release.await(); // until the test ends
                        yield null;
                    }
                    default -> null;
                });
        try {
            MigrationCoordinator.migrate(hanging, node(null), Instance.builder("vm1").build(), "127.0.0.1", true, QUIET);
        } finally {
            release.countDown();
        }
        assertEquals(List.of(new MigrationInfo("runtime")), finalized, "finalized without the source's figures");
    }

    @Test
    void theSourcesFinalStatusReachesTheTarget() throws Exception {
        MigrationStatus done = new MigrationStatus(MigrationStatus.State.ACTIVE, 100, 0, 100).completed(31,
                Instant.parse("2026-12-01T19:00:00Z"));
        MigrationCoordinator.migrate(node(done), node(null), Instance.builder("vm1").build(), "127.0.0.1", true, QUIET);
        assertEquals(List.of(new MigrationInfo("runtime", done)), finalized);
    }

    @Test
    void aSourceThatCannotTellHandsNothingAndTheMigrationStands() throws Exception {
        MigrationCoordinator.migrate(node(new IllegalStateException("gone")), node(null), Instance.builder("vm1").build(),
                "127.0.0.1", true, QUIET);
        MigrationCoordinator.migrate(node(new MigrationStatus(MigrationStatus.State.NONE, 0, 0, 0)), node(null),
                Instance.builder("vm1").build(), "127.0.0.1", true, QUIET);
        assertEquals(2, finalized.size());
        assertNull(finalized.get(0).sourceStatus());
        assertNull(finalized.get(1).sourceStatus(), "only a completed status is handed over");
        assertEquals("runtime", finalized.get(1).data());
    }
}
