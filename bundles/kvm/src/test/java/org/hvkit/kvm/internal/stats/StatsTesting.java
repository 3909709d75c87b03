package org.hvkit.kvm.internal.stats;

/** The collector's bounds for tests in other packages. */
public final class StatsTesting {

    private StatsTesting() {
    }

    public static long qmpMaxAgeMillis() {
        return InstanceStatsCollector.QMP_MAX_AGE.toMillis();
    }
}
