package org.hvkit.shell.internal;

import java.time.Duration;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;

@Command(scope = "hv", name = "stop", description = "Stops an instance: a clean shutdown, killed after the timeout,"
        + " or killed at once with --force.")
@Service
public final class StopCommand extends InstanceAction {

    @Option(name = "-f", aliases = "--force", description = "Kill the instance instead of asking it to shut down")
    boolean force;

    @Option(name = "--timeout", description = "Seconds to wait for a clean shutdown before killing (default: the"
            + " node's, e.g. KVM's stop.timeout.seconds)")
    Integer timeoutSeconds;

    @Override
    Object run(HypervisorRegistry.Entry entry) throws Exception {
        if (timeoutSeconds != null && timeoutSeconds < 0) {
            throw new HypervisorException("--timeout must be 0 or more seconds, got " + timeoutSeconds);
        }
        Hypervisor hv = entry.hypervisor();
        Duration timeout = timeoutSeconds == null ? hv.defaultStopTimeout() : Duration.ofSeconds(timeoutSeconds);
        Instance instance = hv.runningInstance(name);
        if (instance == null) {
            // alive but its definition is unreadable: only a kill by name is possible
            System.out.println("No saved definition for " + name + "; killing it by name");
            hv.stopInstanceByName(name);
        } else {
            hv.stopInstance(instance, force, timeout);
        }
        System.out.println("Instance " + name + " stopped on " + entry.label());
        return null;
    }
}
