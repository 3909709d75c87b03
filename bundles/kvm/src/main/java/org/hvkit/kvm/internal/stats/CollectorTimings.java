package org.hvkit.kvm.internal.stats;

import java.time.Duration;
import java.util.Map;

/**
 * The statistics collector's bounds, from a KVM node's configuration ({@code org.hvkit.kvm}
 * keys {@value #QMP_WAIT}, {@value #MAX_AGE}, {@value #PASS_DEADLINE}, in milliseconds; see
 * docs/configuration.md). They serve {@code hv:stats}, {@code hv:top} and every consumer of
 * {@code InstanceStatistics} (JMX, {@code /metrics}) alike, so they belong to the node.
 *
 * @param qmpWait      how long one instance's QMP queries (lock, connect, each command) may take
 * @param maxAge       how old the last QMP answer (block I/O, balloon) may be and still be given
 *                     without waiting; a QEMU that stopped answering is stale once it is older
 * @param passDeadline how long a pass waits for all QMP answers it has to wait for, together
 */
public record CollectorTimings(Duration qmpWait, Duration maxAge, Duration passDeadline) {

    public static final String QMP_WAIT = "stats.qmp.wait.millis";
    public static final String MAX_AGE = "stats.max.age.millis";
    public static final String PASS_DEADLINE = "stats.pass.deadline.millis";

    /** Measured to keep a pass over 200 instances cheap on two cores (docs/operations.md). */
    public static final CollectorTimings DEFAULTS = new CollectorTimings(Duration.ofMillis(500), Duration.ofSeconds(3),
            Duration.ofMillis(1500));

    /**
     * The timings of a node configuration: a key left out keeps its default; a value that is not
     * a whole number of milliseconds within the key's range fails naming the key and the range.
     */
    public static CollectorTimings from(Map<String, ?> properties, String pid) {
        return new CollectorTimings(millis(properties, pid, QMP_WAIT, 50, 30_000, DEFAULTS.qmpWait()),
                millis(properties, pid, MAX_AGE, 100, 600_000, DEFAULTS.maxAge()),
                millis(properties, pid, PASS_DEADLINE, 100, 60_000, DEFAULTS.passDeadline()));
    }

    private static Duration millis(Map<String, ?> properties, String pid, String key, long min, long max,
                                   Duration absent) {
        Object raw = properties.get(key);
        if (raw == null) {
            return absent;
        }
        String text = raw instanceof Number n && !(raw instanceof Double || raw instanceof Float)
                ? Long.toString(n.longValue()) : raw.toString().trim();
        if (text.matches("[0-9]{1,9}")) {
            long v = Long.parseLong(text);
            if (v >= min && v <= max) {
                return Duration.ofMillis(v);
            }
        }
        throw new IllegalArgumentException(pid + ": " + key + " must be a whole number of milliseconds from " + min
                + " to " + max + ", got '" + raw + "'");
    }
}
