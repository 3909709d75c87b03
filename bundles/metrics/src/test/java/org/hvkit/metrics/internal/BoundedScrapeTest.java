package org.hvkit.metrics.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.hvkit.hypervisor.InstanceStatistics;
import org.hvkit.hypervisor.InstanceStats;
import org.junit.jupiter.api.Test;

class BoundedScrapeTest {

    /** A node whose statistics call blocks until released, counting its calls. */
    static final class Hung implements InstanceStatistics {
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public List<InstanceStats> allInstanceStatistics() {
            calls.incrementAndGet();
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return List.of(PrometheusFamiliesTest.full("late", "hung"));
        }

        @Override
        public Optional<InstanceStats> instanceStatistics(String name) {
            return Optional.empty();
        }
    }

    static InstanceStatistics answering(List<InstanceStats> stats) {
        return new InstanceStatistics() {
            @Override
            public List<InstanceStats> allInstanceStatistics() {
                return stats;
            }

            @Override
            public Optional<InstanceStats> instanceStatistics(String name) {
                return Optional.empty();
            }
        };
    }

    static InstanceStatistics failing() {
        return new InstanceStatistics() {
            @Override
            public List<InstanceStats> allInstanceStatistics() {
                throw new IllegalStateException("boom");
            }

            @Override
            public Optional<InstanceStats> instanceStatistics(String name) {
                return Optional.empty();
            }
        };
    }

    @Test
    void aHungNodeIsLeftOutAndHoldsOneThreadTheOthersAreServed() throws Exception {
        Hung hung = new Hung();
        InstanceStatistics ok = answering(List.of(PrometheusFamiliesTest.full("vm2", "ok"), PrometheusFamiliesTest.full("vm1", "ok")));
        List<BoundedScrape.Source> sources = List.of(new BoundedScrape.Source("hung", hung),
                new BoundedScrape.Source("ok", ok), new BoundedScrape.Source("bad", failing()));
        try (BoundedScrape scrape = new BoundedScrape()) {
            for (int pass = 1; pass <= 3; pass++) {
                BoundedScrape.Result r = scrape.run(sources, Duration.ofMillis(200));
                assertEquals(List.of("vm1", "vm2"), r.stats().stream().map(InstanceStats::name).toList(), "pass " + pass);
                assertEquals(Map.of("hung", false, "ok", true, "bad", false), r.complete(), "pass " + pass);
                assertTrue(r.seconds() >= 0.2, "waited for the bound: " + r.seconds());
            }
            assertEquals(1, hung.calls.get(), "later passes wait for the call still running instead of starting more");
            hung.release.countDown();
            BoundedScrape.Result r = scrape.run(sources, Duration.ofSeconds(60));
            assertEquals(List.of("late", "vm1", "vm2"), r.stats().stream().map(InstanceStats::name).toList());
            assertEquals(Map.of("hung", true, "ok", true, "bad", false), r.complete());
            scrape.run(sources, Duration.ofSeconds(60));
            assertEquals(2, hung.calls.get(), "a finished call is not served twice");
        }
    }
}
