package org.hvkit.shell.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * The {@link Hypervisor} services registered right now, looked up on every command so that
 * the shell follows bundles being stopped, updated or swapped.
 */
final class HypervisorRegistry {

    /** One registered hypervisor and the service object obtained for this command. */
    record Entry(ServiceReference<Hypervisor> reference, Hypervisor hypervisor) {
        String type() {
            Object t = reference.getProperty(Hypervisor.TYPE_PROPERTY);
            return t == null ? hypervisor.type() : t.toString();
        }

        String node() {
            Object n = reference.getProperty(Hypervisor.NODE_PROPERTY);
            return n == null ? hypervisor.node() : n.toString();
        }

        /** Whether the service is a proxy for another machine's hypervisor (OSGi Remote Services, issue #16). */
        boolean remote() {
            return reference.getProperty(SERVICE_IMPORTED) != null;
        }

        /**
         * Where a remote hypervisor is called: Aries RSA fastbin's address ({@code tcp://host:port}),
         * else the endpoint id; null for a local one.
         */
        String endpoint() {
            if (!remote()) {
                return null;
            }
            Object a = reference.getProperty(FASTBIN_ADDRESS);
            Object where = a != null ? a : reference.getProperty(ENDPOINT_ID);
            return where == null ? null : where.toString();
        }

        Bundle bundle() {
            return reference.getBundle();
        }

        String label() {
            return type() + "@" + node();
        }
    }

    /** The Remote Services property of an imported service (RemoteConstants.SERVICE_IMPORTED). */
    static final String SERVICE_IMPORTED = "service.imported";
    /** The endpoint id of an imported service (RemoteConstants.ENDPOINT_ID). */
    static final String ENDPOINT_ID = "endpoint.id";
    /** Where Aries RSA's fastbin provider calls an imported service (docs/multi-host.md). */
    static final String FASTBIN_ADDRESS = "aries.fastbin.address";

    private final BundleContext context;
    private final List<ServiceReference<Hypervisor>> obtained = new ArrayList<>();

    HypervisorRegistry(BundleContext context) {
        this.context = context;
    }

    /** Every registered hypervisor, sorted by type and node; the services stay obtained until {@link #release()}. */
    List<Entry> all() {
        Collection<ServiceReference<Hypervisor>> refs;
        try {
            // a facade stands for a local hypervisor that is listed itself (Hypervisor.FACADE_PROPERTY)
            refs = context.getServiceReferences(Hypervisor.class, Hypervisor.NOT_FACADE_FILTER);
        } catch (InvalidSyntaxException e) {
            throw new AssertionError(e);
        }
        List<Entry> entries = new ArrayList<>();
        for (ServiceReference<Hypervisor> ref : refs) {
            Hypervisor hv = context.getService(ref);
            if (hv != null) {
                obtained.add(ref);
                entries.add(new Entry(ref, hv));
            }
        }
        entries.sort(Comparator.comparing(Entry::type).thenComparing(Entry::node));
        return entries;
    }

    /** Hypervisors of {@code type} (all when null) on {@code node} (all when null); never empty. */
    List<Entry> select(String type, String node) throws HypervisorException {
        List<Entry> all = all();
        if (all.isEmpty()) {
            throw new HypervisorException("No hypervisor is registered (is a hypervisor bundle started?"
                    + " try: feature:install hvkit-fake)");
        }
        List<Entry> matching = all.stream()
                .filter(e -> type == null || e.type().equals(type))
                .filter(e -> node == null || e.node().equals(node))
                .collect(Collectors.toList());
        if (matching.isEmpty()) {
            if (type != null && all.stream().noneMatch(e -> e.type().equals(type))) {
                throw new HypervisorException("Unknown hypervisor type '" + type + "' (registered: "
                        + all.stream().map(Entry::type).distinct().collect(Collectors.joining(", ")) + ")");
            }
            throw new HypervisorException("No " + (type == null ? "" : type + " ") + "hypervisor on node '" + node
                    + "' (registered: " + labels(all) + ")");
        }
        return matching;
    }

    /** Exactly one hypervisor of {@code type} on {@code node}; asks the user to choose when ambiguous. */
    Entry one(String type, String node) throws HypervisorException {
        List<Entry> matching = select(type, node);
        if (matching.size() > 1) {
            throw new HypervisorException("Several hypervisors match (" + labels(matching) + "); choose one with"
                    + (type == null ? " --type and" : "") + " --node");
        }
        return matching.get(0);
    }

    /** The hypervisor that runs instance {@code name}, among those of {@code type}/{@code node}. */
    Entry locate(String name, String type, String node) throws HypervisorException {
        Instance.requireValidName(name);
        List<Entry> candidates = select(type, node);
        List<Entry> found = running(name, candidates);
        if (found.isEmpty()) {
            throw new HypervisorException("Instance '" + name + "' is not running on any registered hypervisor"
                    + " (looked at: " + labels(candidates) + ")");
        }
        if (found.size() > 1) {
            throw new HypervisorException("Instance '" + name + "' runs on several hypervisors (" + labels(found)
                    + "); choose one with --type/--node");
        }
        return found.get(0);
    }

    /** The hypervisors among {@code candidates} on which instance {@code name} is alive. */
    static List<Entry> running(String name, List<Entry> candidates) throws HypervisorException {
        List<Entry> found = new ArrayList<>();
        for (Entry e : candidates) {
            if (e.hypervisor().listInstances().contains(name)) {
                found.add(e);
            }
        }
        return found;
    }

    /** Releases the services obtained by this registry. */
    void release() {
        for (ServiceReference<Hypervisor> ref : obtained) {
            try {
                context.ungetService(ref);
            } catch (IllegalStateException e) {
                // the bundle context or the service went away meanwhile: nothing to release
            }
        }
        obtained.clear();
    }

    static String labels(List<Entry> entries) {
        return entries.stream().map(Entry::label).collect(Collectors.joining(", "));
    }
}
