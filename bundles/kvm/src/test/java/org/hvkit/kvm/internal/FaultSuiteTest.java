package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import org.hvkit.netdev.internal.FlockFileLocks;
import org.hvkit.uidpool.UidRanges;
import org.hvkit.uidpool.internal.FlockUidPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * The fault-injection suite (docs/reliability.md): every case in {@link FaultCases} runs against
 * real QEMU next to a bystander guest, asserts its exact outcome, and then must leave nothing
 * behind — no QEMU process, tap, uid lock, JVM descriptor or runtime file — while the bystander
 * keeps running. Each case is its own test in the report.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultSuiteTest {

    private Path tmp;
    private FaultBench bench;
    private long bystanderPid;

    @BeforeAll
    void bystanderUp() throws Exception {
        KvmTestNode.requireRealQemu();
        tmp = Files.createTempDirectory("hvkit-faults-");
        FlockUidPool pool = FlockUidPool.create(UidRanges.parse("34, 65534"), tmp.resolve("uid-pool"),
                new FlockFileLocks());
        bench = new FaultBench(tmp, pool);
        bench.node.startInstance(KvmTestNode.guest(FaultBench.BYSTANDER, null, null).memory(128).build(), false);
        bench.awaitLog(FaultBench.BYSTANDER, "GUEST-UP", Duration.ofSeconds(60));
        bystanderPid = bench.pid(FaultBench.BYSTANDER);
        // load every class and library a case may touch before descriptors are counted
        String warm = "warmup";
        bench.node.startInstance(KvmTestNode.guest(warm, null, null).memory(64).build(), true);
        bench.node.instanceInfo(warm);
        bench.node.allInstancesInfo();
        bench.node.stopInstance(Optional.ofNullable(bench.node.runningInstance(warm)).orElseThrow(), true, Duration.ofSeconds(5));
        bench.node.cleanupInstance(warm);
        FaultBench.error(() -> bench.node.cleanupInstance("../warm"));
    }

    @AfterAll
    void bystanderDown() throws Exception {
        if (bench == null) {
            return;
        }
        try {
            int heartbeats = KvmTestNode.count(KvmTestNode.serialLog(bench.root, FaultBench.BYSTANDER), "HEARTBEAT ");
            bench.node.stopInstance(Optional.ofNullable(bench.node.runningInstance(FaultBench.BYSTANDER)).orElseThrow(), false,
                    Duration.ofSeconds(20));
            bench.node.cleanupInstance(FaultBench.BYSTANDER);
            assertTrue(heartbeats > 3, "the bystander guest kept beating through the suite (" + heartbeats + ")");
        } finally {
            bench.node.close();
            try (Stream<Path> s = Files.walk(tmp)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> faults() {
        return FaultCases.all().stream().map(c -> DynamicTest.dynamicTest(c.id() + " [" + c.category() + "] "
                + c.title(), () -> run(c)));
    }

    private void run(FaultCase c) throws Exception {
        FaultBench.Account before = bench.account();
        try {
            c.body().run(bench);
        } finally {
            bench.runDeferred();
        }
        List<String> leaks = settle(before);
        bench.assertBystanderRuns(bystanderPid);
        if (!leaks.isEmpty()) {
            bench.killLeftovers(bench.qemuPids());
            fail(c.id() + " leaked: " + String.join("; ", leaks));
        }
    }

    /** Compares the accounts, allowing a moment for processes to be reaped and descriptors closed. */
    private List<String> settle(FaultBench.Account before) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (true) {
            List<String> leaks = bench.leakReport(before, bench.account());
            if (leaks.isEmpty() || System.nanoTime() > deadline) {
                return leaks;
            }
            Thread.sleep(50);
        }
    }

    /** docs/reliability.md lists every case, and lists nothing that is not a case. */
    @Test
    void theReliabilityDocumentListsEveryCase() throws Exception {
        Path doc = Path.of(System.getProperty("basedir", "."), "../../docs/reliability.md").normalize();
        String text = Files.readString(doc, StandardCharsets.UTF_8);
        Set<String> ids = new HashSet<>();
        List<String> missing = new ArrayList<>();
        for (FaultCase c : FaultCases.all()) {
            assertTrue(ids.add(c.id()), "duplicate case id " + c.id());
            if (!text.contains("| " + c.id() + " |")) {
                missing.add(c.id());
            }
        }
        assertEquals(List.of(), missing, "cases missing from " + doc);
        long rows = text.lines().filter(l -> l.matches("\\| [NIPJFQMCHL]\\d+ \\|.*")).count();
        assertEquals(ids.size(), rows, "docs/reliability.md has a row per case and no other");
        assertTrue(ids.size() >= 50, "at least 50 cases (" + ids.size() + ")");
    }
}
