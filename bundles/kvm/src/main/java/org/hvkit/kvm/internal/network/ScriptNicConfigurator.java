package org.hvkit.kvm.internal.network;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.ProcessSpawner;
import org.hvkit.netdev.SpawnRequest;
import org.hvkit.netdev.SpawnResult;

/**
 * Runs the ifup script with Ganeti's environment contract ({@code hv_base.ConfigureNIC};
 * docs/ganeti-behaviour.md, "The ifup contract"): {@code <script> <tap>}.
 */
public final class ScriptNicConfigurator implements NicConfigurator {

    private final Path script;
    private final ProcessSpawner spawner;
    private final Duration timeout;

    public ScriptNicConfigurator(Path script, ProcessSpawner spawner, Duration timeout) {
        this.script = script;
        this.spawner = spawner;
        this.timeout = timeout;
    }

    /** The script's environment: the daemon's, LC_ALL=C, PATH plus the sbin dirs, and Ganeti's variables. */
    public static Map<String, String> environment(Map<String, String> base, Instance instance, int seq, Nic nic,
                                                  String tap) {
        Map<String, String> env = new LinkedHashMap<>(base);
        env.put("LC_ALL", "C");
        env.put("PATH", base.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin") + ":/sbin:/usr/sbin");
        env.put("INSTANCE", instance.name());
        env.put("MAC", nic.mac());
        env.put("MODE", nic.mode().ganetiName());
        env.put("INTERFACE", tap);
        env.put("INTERFACE_INDEX", Integer.toString(seq));
        env.put("TAGS", String.join(" ", instance.tags()));
        env.remove("IP");
        env.remove("LINK");
        env.remove("BRIDGE");
        if (nic.ip() != null) {
            env.put("IP", nic.ip());
        }
        if (!nic.link().isEmpty()) {
            env.put("LINK", nic.link());
        }
        if (nic.mode() == NicMode.BRIDGED) {
            env.put("BRIDGE", nic.link());
        }
        return env;
    }

    @Override
    public void configure(Instance instance, int seq, Nic nic, String tap) throws HypervisorException {
        SpawnRequest req = new SpawnRequest(List.of(script.toString(), tap),
                environment(System.getenv(), instance, seq, nic, tap), Path.of("/"), List.of());
        SpawnResult r;
        try {
            r = spawner.run(req, timeout);
        } catch (NativeException e) {
            throw new HypervisorException("Failed to configure interface " + tap + ": " + e.getMessage(), e);
        }
        if (!r.succeeded()) {
            throw new HypervisorException("Failed to configure interface " + tap + ": " + r.failReason()
                    + ". Network configuration script output: " + r.output());
        }
    }
}
