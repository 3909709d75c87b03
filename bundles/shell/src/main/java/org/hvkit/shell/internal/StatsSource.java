package org.hvkit.shell.internal;

import java.util.ArrayList;
import java.util.List;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceStatistics;
import org.hvkit.hypervisor.InstanceStats;

/** One statistics pass over the selected hypervisors that offer {@link InstanceStatistics}. */
final class StatsSource {

    private final List<HypervisorRegistry.Entry> capable = new ArrayList<>();
    private final List<HypervisorRegistry.Entry> without = new ArrayList<>();
    private final String name;

    /** @param name one instance, or null for all */
    StatsSource(List<HypervisorRegistry.Entry> selected, String name) throws HypervisorException {
        this.name = name == null ? null : Instance.requireValidName(name);
        for (HypervisorRegistry.Entry e : selected) {
            (e.hypervisor() instanceof InstanceStatistics ? capable : without).add(e);
        }
        if (capable.isEmpty()) {
            throw new HypervisorException("No selected hypervisor reports statistics (looked at: "
                    + HypervisorRegistry.labels(selected) + ")");
        }
    }

    /** The hypervisors that do not report statistics, e.g. {@code fake@node-x}; empty when all do. */
    String without() {
        return HypervisorRegistry.labels(without);
    }

    /** The figures of one pass, hypervisor by hypervisor. */
    List<InstanceStats> pass() throws HypervisorException {
        List<InstanceStats> out = new ArrayList<>();
        for (HypervisorRegistry.Entry e : capable) {
            InstanceStatistics stats = (InstanceStatistics) e.hypervisor();
            if (name == null) {
                out.addAll(stats.allInstanceStatistics());
            } else {
                stats.instanceStatistics(name).ifPresent(out::add);
            }
        }
        if (name != null && out.isEmpty()) {
            throw new HypervisorException("Instance '" + name + "' is not running on any hypervisor that reports"
                    + " statistics (looked at: " + HypervisorRegistry.labels(capable) + ")");
        }
        return out;
    }
}
