package org.hvkit.metrics.internal;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The validated configuration {@value #PID}: every key is read from the raw properties (a
 * number or its text), and a value that is not a whole number within the key's range fails
 * with a message naming the key, the range and the value. No configuration means the defaults.
 *
 * @param scrapeTimeout how long one {@code /metrics} scrape waits for all nodes
 * @param jmxRefresh    how often the Instance MBeans are matched to the running instances
 * @param jmxCache      how long one reading serves an Instance MBean's attribute reads
 */
record MetricsSettings(Duration scrapeTimeout, Duration jmxRefresh, Duration jmxCache) {

    static final String PID = "org.hvkit.metrics";
    static final String SCRAPE_TIMEOUT = "scrape.timeout.seconds";
    static final String JMX_REFRESH = "jmx.refresh.seconds";
    static final String JMX_CACHE = "jmx.cache.millis";
    /** The keys this PID knows, for the warning about the others (a typo keeps a default silently otherwise). */
    static final Set<String> KEYS = Set.of(SCRAPE_TIMEOUT, JMX_REFRESH, JMX_CACHE);

    static final MetricsSettings DEFAULTS = new MetricsSettings(Duration.ofSeconds(8), Duration.ofSeconds(5),
            Duration.ofMillis(2000));

    /**
     * The settings a component activates with: a bad value is logged as one ERROR line and
     * thrown, so that SCR does not activate the component; keys this PID does not know are
     * named in a warning.
     */
    static MetricsSettings forComponent(Map<String, ?> properties, String component) {
        Logger log = LoggerFactory.getLogger(MetricsSettings.class);
        try {
            MetricsSettings s = from(properties);
            Set<String> unknown = unknownKeys(properties);
            if (!unknown.isEmpty()) {
                log.warn("{}: ignoring unknown keys {} (known: {})", PID, unknown, new java.util.TreeSet<>(KEYS));
            }
            return s;
        } catch (IllegalArgumentException e) {
            log.error("{}; the {} stays inactive until it is fixed", e.getMessage(), component);
            throw e;
        }
    }

    static MetricsSettings from(Map<String, ?> properties) {
        return new MetricsSettings(
                Duration.ofSeconds(whole(properties, SCRAPE_TIMEOUT, 1, 300, DEFAULTS.scrapeTimeout().toSeconds())),
                Duration.ofSeconds(whole(properties, JMX_REFRESH, 1, 3600, DEFAULTS.jmxRefresh().toSeconds())),
                Duration.ofMillis(whole(properties, JMX_CACHE, 0, 60_000, DEFAULTS.jmxCache().toMillis())));
    }

    /** The keys of {@code properties} that are neither this PID's nor ConfigAdmin's or fileinstall's own. */
    static Set<String> unknownKeys(Map<String, ?> properties) {
        java.util.TreeSet<String> unknown = new java.util.TreeSet<>();
        for (String k : properties.keySet()) {
            if (!KEYS.contains(k) && !k.startsWith("service.") && !k.startsWith("component.")
                    && !k.startsWith("felix.") && !k.startsWith("osgi.") && !k.startsWith(".")) {
                unknown.add(k);
            }
        }
        return unknown;
    }

    private static long whole(Map<String, ?> properties, String key, long min, long max, long fallback) {
        Object raw = properties.get(key);
        if (raw == null) {
            return fallback;
        }
        long v;
        if (raw instanceof Integer || raw instanceof Long || raw instanceof Short) {
            v = ((Number) raw).longValue();
        } else {
            try {
                v = Long.parseLong(raw.toString().trim());
            } catch (NumberFormatException e) {
                throw bad(key, min, max, raw);
            }
        }
        if (v < min || v > max) {
            throw bad(key, min, max, raw);
        }
        return v;
    }

    private static IllegalArgumentException bad(String key, long min, long max, Object raw) {
        return new IllegalArgumentException(PID + ": " + key + " must be a whole number from " + min + " to " + max
                + ", got '" + raw + "'");
    }
}
