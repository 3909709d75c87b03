package org.hvkit.metrics.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.hvkit.hypervisor.InstanceStatistics;
import org.hvkit.hypervisor.InstanceStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One statistics pass over several nodes, bounded as a whole: each node's
 * {@link InstanceStatistics#allInstanceStatistics} runs on its own thread and the pass returns
 * what came back by the deadline. A node that did not answer in time is reported incomplete and
 * its call is left to finish; the next pass waits for that same call instead of starting
 * another, so a hung node holds at most one thread.
 */
final class BoundedScrape implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BoundedScrape.class);

    /** One node to ask. */
    record Source(String node, InstanceStatistics statistics) {
    }

    /**
     * What one pass got.
     *
     * @param stats    every instance's figures, ordered by node and name
     * @param complete every node asked, with whether its answer came back in time
     * @param seconds  how long the pass took
     */
    record Result(List<InstanceStats> stats, Map<String, Boolean> complete, double seconds) {
    }

    private final ExecutorService executor;
    private final Map<InstanceStatistics, Future<List<InstanceStats>>> inFlight = new IdentityHashMap<>();

    BoundedScrape() {
        AtomicInteger n = new AtomicInteger();
        executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "hvkit-metrics-scrape-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Asks every source, waiting at most {@code bound} in all. */
    Result run(List<Source> sources, Duration bound) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + bound.toNanos();
        Map<Source, Future<List<InstanceStats>>> asked = new LinkedHashMap<>();
        synchronized (inFlight) {
            for (Source s : sources) {
                Future<List<InstanceStats>> f = inFlight.get(s.statistics());
                if (f == null) {
                    f = executor.submit(s.statistics()::allInstanceStatistics);
                    inFlight.put(s.statistics(), f);
                }
                asked.put(s, f);
            }
        }
        List<InstanceStats> stats = new ArrayList<>();
        Map<String, Boolean> complete = new LinkedHashMap<>();
        for (Map.Entry<Source, Future<List<InstanceStats>>> e : asked.entrySet()) {
            String node = e.getKey().node();
            Future<List<InstanceStats>> f = e.getValue();
            try {
                stats.addAll(f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
                complete.merge(node, true, Boolean::logicalAnd);
                forget(e.getKey(), f);
            } catch (TimeoutException ex) {
                LOG.warn("Statistics of node {} did not come back within {}; left out of this scrape", node, bound);
                complete.put(node, false);
            } catch (ExecutionException ex) {
                LOG.warn("Statistics of node {} failed: {}", node, String.valueOf(ex.getCause()), ex.getCause());
                complete.put(node, false);
                forget(e.getKey(), f);
            }
        }
        stats.sort(Comparator.comparing(InstanceStats::node).thenComparing(InstanceStats::name));
        return new Result(stats, complete, (System.nanoTime() - start) / 1e9);
    }

    private void forget(Source s, Future<List<InstanceStats>> f) {
        synchronized (inFlight) {
            inFlight.remove(s.statistics(), f);
        }
    }

    /** Stops the threads (interrupting calls still running); waits for them at most 5 s. */
    @Override
    public void close() {
        executor.shutdownNow();
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("Statistics calls still running 5 s after the metrics endpoint stopped");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
