package org.hvkit.remote.internal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.hvkit.hypervisor.Hypervisor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * Asks for every {@link Hypervisor}, so that other machines' are imported. Aries RSA's topology
 * manager imports an endpoint only while some bundle listens for services that match it (its
 * {@code ListenerHook}); the shell looks services up when a command runs, without listening, and
 * {@link RemoteExporter} follows only local ones. This component's reference is such a listener:
 * with the {@code hvkit-remote} feature, every hypervisor another host exports appears here as
 * an ordinary {@code Hypervisor} service (with {@code service.imported}), whether or not this
 * host exports its own (docs/multi-host.md).
 */
@Component(service = {}, immediate = true)
public final class ImportInterest {

    /** What is known now, local and imported (only held: the interest is the point). */
    private final List<Hypervisor> known = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addHypervisor(Hypervisor h) {
        known.add(h);
    }

    void removeHypervisor(Hypervisor h) {
        known.remove(h);
    }

    /** How many hypervisors this JVM sees (local, facades and imported). */
    int count() {
        return known.size();
    }
}
