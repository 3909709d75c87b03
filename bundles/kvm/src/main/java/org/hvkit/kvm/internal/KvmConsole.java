package org.hvkit.kvm.internal;

import java.util.List;
import java.util.Map;

import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceConsole;
import org.hvkit.kvm.internal.runtime.RuntimePaths;
import org.hvkit.kvm.internal.argv.VncDisplay;
import org.hvkit.kvm.internal.params.KvmParameters;

/**
 * Ganeti's {@code GetInstanceConsole} with hvkit's fix for VNC on 0.0.0.0 (docs/ganeti-behaviour.md,
 * "Console objects").
 */
final class KvmConsole {

    private KvmConsole() {
    }

    static InstanceConsole of(Instance instance, Map<String, Object> hv, KvmSettings settings, RuntimePaths paths) {
        String name = instance.name();
        String host = instance.primaryNode().isEmpty() ? settings.node() : instance.primaryNode();
        if (KvmParameters.bool(hv, KvmParameters.SERIAL_CONSOLE)) {
            return InstanceConsole.ssh(name, host, "root", List.of(settings.socatPath().toString(),
                    "STDIO,raw,echo=0,escape=0x1d", "UNIX-CONNECT:" + paths.serialSocket(name)));
        }
        VncDisplay vnc = VncDisplay.of(KvmParameters.str(hv, KvmParameters.VNC_BIND_ADDRESS), instance.networkPort());
        if (vnc.kind() == VncDisplay.Kind.TCP) {
            // VNC on every address: the node is where to connect, not 0.0.0.0
            return InstanceConsole.vnc(name, vnc.allAddresses() ? host : vnc.address(), instance.networkPort());
        }
        if (vnc.kind() == VncDisplay.Kind.UNIX) {
            return InstanceConsole.message(name, "Instance " + name + " has VNC on the unix socket " + vnc.socket(name)
                    + " on node " + host);
        }
        return InstanceConsole.message(name, "No serial shell for instance " + name);
    }
}
