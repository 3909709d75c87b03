package org.hvkit.kvm.internal.network;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.kvm.internal.runtime.RuntimePaths;
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

    /**
     * The configured script, or hvkit's built-in {@code kvm-ifup} installed as
     * {@code <root.dir>/kvm-ifup} when none is configured.
     */
    public static ScriptNicConfigurator withScript(Path configured, RuntimePaths paths, ProcessSpawner spawner,
                                                   Duration timeout) throws HypervisorException {
        if (configured != null) {
            return new ScriptNicConfigurator(configured, spawner, timeout);
        }
        Path builtIn = paths.confined(paths.root().resolve("kvm-ifup"));
        try (InputStream in = ScriptNicConfigurator.class.getResourceAsStream("/org/hvkit/kvm/kvm-ifup")) {
            Files.copy(in, builtIn, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(builtIn, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new HypervisorException("cannot install the built-in kvm-ifup at " + builtIn + ": " + e, e);
        }
        return new ScriptNicConfigurator(builtIn, spawner, timeout);
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
