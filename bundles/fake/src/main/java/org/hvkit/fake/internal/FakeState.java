package org.hvkit.fake.internal;

import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceState;

/** What the fake hypervisor remembers about one running instance. */
record FakeState(Instance instance, InstanceState state, long startedMillis) {
}
