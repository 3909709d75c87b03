package org.hvkit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.hvkit.hypervisor.Hypervisor;
import org.junit.jupiter.api.Test;
import org.osgi.framework.ServiceException;
import org.osgi.framework.ServiceReference;

/**
 * hv:migrate's error when a remote call dies in the transport (issue #16, docs/multi-host.md): the
 * provider's bare message ("Connection reset") comes with the remote hypervisor and its address.
 */
class MigrateRemoteFailureTest {

    @SuppressWarnings("unchecked")
    private static HypervisorRegistry.Entry entry(String node, Map<String, Object> extra) {
        Map<String, Object> props = new HashMap<>(extra);
        props.put(Hypervisor.TYPE_PROPERTY, "kvm");
        props.put(Hypervisor.NODE_PROPERTY, node);
        ServiceReference<Hypervisor> ref = (ServiceReference<Hypervisor>) Proxy.newProxyInstance(
                MigrateRemoteFailureTest.class.getClassLoader(), new Class<?>[] {ServiceReference.class},
                (p, m, a) -> m.getName().equals("getProperty") ? props.get(a[0]) : null);
        return new HypervisorRegistry.Entry(ref, null);
    }

    @Test
    void theRemoteHypervisorAndItsAddressAreNamed() {
        HypervisorRegistry.Entry b = entry("host-b", Map.of("service.imported", "true",
                "aries.fastbin.address", "tcp://192.0.2.2:8201", "endpoint.id", "ID:x-1"));
        HypervisorRegistry.Entry a = entry("host-a", Map.of());
        assertNull(a.endpoint(), "a local hypervisor has no endpoint");
        assertEquals("Migration of guest failed: a remote call to kvm@host-b at tcp://192.0.2.2:8201 failed:"
                + " Connection reset", MigrateCommand.remoteFailure("guest", List.of(b, a),
                        new ServiceException("Connection reset")));
        HypervisorRegistry.Entry c = entry("host-c", Map.of("service.imported", "true", "endpoint.id", "ID:c-1"));
        assertEquals("Migration of guest failed: a remote call to kvm@host-b at tcp://192.0.2.2:8201 or kvm@host-c"
                + " at ID:c-1 failed: x", MigrateCommand.remoteFailure("guest", List.of(b, c), new ServiceException("x")));
    }
}
