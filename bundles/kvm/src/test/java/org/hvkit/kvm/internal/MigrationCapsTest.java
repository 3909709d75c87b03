package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.KvmTestNode.awaitLog;
import static org.hvkit.kvm.internal.KvmTestNode.serialLog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.MigrationCoordinator;
import org.hvkit.hypervisor.MigrationStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ganeti 3.0's migration_caps on real QEMU 7.2 (TCG), two nodes over loopback: the capabilities
 * are on on both sides, a throttled migration of a running guest that cannot converge in
 * pre-copy finishes in post-copy, and an unknown capability is refused before anything moves.
 * The guest has no NIC (see KvmMigrationTest on multi-pass pre-copy with a NIC under TCG).
 */
class MigrationCapsTest {

    @TempDir
    Path tmp;
    KvmHypervisor a;
    KvmHypervisor b;

    /** A port nothing listens on now (each test migrates on its own). */
    private static final int PORT;

    static {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            PORT = s.getLocalPort();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static KvmHypervisor node(String name, Path root, String bandwidth) {
        KvmSettings s = KvmTestNode.settings(name, root, KvmTestNode.QEMU, false, null);
        return KvmTestNode.node(new KvmSettings(s.node(), s.rootDir(), s.kvmPath(), s.scriptNicSetup(), s.ifupScript(),
                s.ifupTimeout(), s.socatPath(), s.stopTimeout(), Duration.ofSeconds(120),
                KvmSettings.hvparamDefaults(Map.of("hvparam.migration_bandwidth", bandwidth,
                        "hvparam.migration_port", Integer.toString(PORT)))));
    }

    @BeforeEach
    void setUp() {
        KvmTestNode.requireRealQemu();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (KvmHypervisor n : new KvmHypervisor[] {a, b}) {
            if (n != null) {
                n.stopInstanceByName("mc1");
                if (n.knownInstances().contains("mc1")) {
                    n.cleanupInstance("mc1");
                }
                n.close();
            }
        }
    }

    private static boolean enabled(KvmHypervisor n, String cap) throws HypervisorException {
        for (JsonNode c : KvmTestNode.qmp(n, "mc1", "query-migrate-capabilities")) {
            if (c.path("capability").asText().equals(cap)) {
                return c.path("state").asBoolean();
            }
        }
        throw new AssertionError("no capability " + cap);
    }

    private void migrate(Instance guest) throws HypervisorException {
        MigrationCoordinator.migrate(a, b, Optional.ofNullable(a.runningInstance(guest.name())).orElseThrow(), "127.0.0.1", true,
                new MigrationCoordinator.Listener() {
                    @Override
                    public void accepted() {
                    }

                    @Override
                    public void status(MigrationStatus status) {
                    }
                });
    }

    @Test
    void capabilitiesAreOnBothSidesAndPostcopyFinishesAMigrationThatCannotConverge() throws Exception {
        // 2 MiB/s against a running guest: pre-copy cannot get under the 30 ms downtime, so it switches
        a = node("node-a", tmp.resolve("a"), "2");
        b = node("node-b", tmp.resolve("b"), "2");
        Instance guest = KvmTestNode.guest("mc1", null, null).hvparam("migration_caps", "xbzrle:postcopy-ram").build();
        a.startInstance(guest, false);
        awaitLog(tmp.resolve("a"), "mc1", "HEARTBEAT 2", Duration.ofSeconds(60));
        migrate(guest);
        assertEquals(List.of(), a.listInstances(), "the source is gone");
        assertTrue(enabled(b, "xbzrle") && enabled(b, "postcopy-ram"), "set on the target when it accepted");
        awaitLog(tmp.resolve("b"), "mc1", "HEARTBEAT", Duration.ofSeconds(30));
        int before = KvmMigrationTest.lastHeartbeat(serialLog(tmp.resolve("b"), "mc1"));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (KvmMigrationTest.lastHeartbeat(serialLog(tmp.resolve("b"), "mc1")) <= before
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(KvmMigrationTest.lastHeartbeat(serialLog(tmp.resolve("b"), "mc1")) > before,
                "the guest runs on the target:\n" + serialLog(tmp.resolve("b"), "mc1"));
    }

    @Test
    void anUnknownCapabilityIsRefusedAndTheGuestStaysOnTheSource() throws Exception {
        a = node("node-a", tmp.resolve("a"), "1000");
        b = node("node-b", tmp.resolve("b"), "1000");
        Instance guest = KvmTestNode.guest("mc1", null, null).hvparam("migration_caps", "xbzrle:warp-drive").build();
        a.startInstance(guest, false);
        HypervisorException e = org.junit.jupiter.api.Assertions.assertThrows(HypervisorException.class,
                () -> migrate(guest));
        assertTrue(e.getMessage().contains("migration_caps: this QEMU has no migration capability 'warp-drive';"
                + " it has: ") && e.getMessage().contains("xbzrle"), e.getMessage());
        assertEquals(List.of("mc1"), a.listInstances(), "still on the source");
        assertEquals(List.of(), b.listInstances(), "the target was aborted");
        assertEquals(List.of(), KvmTestNode.instanceFiles(tmp.resolve("b")), "nothing left on the target");
        try (java.net.ServerSocket s = new java.net.ServerSocket(PORT, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertTrue(s.isBound(), "the target's QEMU no longer listens on " + PORT);
        }
    }
}
