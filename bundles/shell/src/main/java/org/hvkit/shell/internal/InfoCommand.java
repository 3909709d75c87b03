package org.hvkit.shell.internal;

import java.util.Map;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.Nic;

@Command(scope = "hv", name = "info", description = "Shows what the hypervisor knows about a live instance.")
@Service
public final class InfoCommand extends InstanceAction {

    @Override
    Object run(HypervisorRegistry.Entry entry) throws Exception {
        InstanceInfo info = entry.hypervisor().instanceInfo(name);
        if (info == null) {
            throw new IllegalStateException("Instance '" + name + "' stopped meanwhile");
        }
        line("Name", info.name());
        line("Hypervisor", entry.label());
        line("State", StateLabels.of(info.state()));
        line("PID", info.pid() < 0 ? "-" : Long.toString(info.pid()));
        line("Memory", info.memoryMiB() + " MiB");
        line("VCPUs", Integer.toString(info.vcpus()));
        line("CPU time", String.format("%.1f s", info.cpuTimeSeconds()));
        Instance def = entry.hypervisor().runningInstance(name);
        if (def != null) {
            line("Disk template", def.diskTemplate());
            for (int i = 0; i < def.nics().size(); i++) {
                Nic n = def.nics().get(i);
                line("NIC " + i, n.mac() + " " + n.mode().ganetiName() + (n.link().isEmpty() ? "" : " " + n.link())
                        + (n.ip() == null ? "" : " ip " + n.ip()));
            }
            for (int i = 0; i < def.disks().size(); i++) {
                Disk d = def.disks().get(i);
                line("Disk " + i, d.devPath() + " " + d.mode().ganetiName() + (d.sizeMiB() > 0 ? " " + d.sizeMiB() + " MiB" : ""));
            }
            for (Map.Entry<String, Object> p : def.hvparams().entrySet()) {
                line("  " + p.getKey(), String.valueOf(p.getValue()));
            }
            line("Console", entry.hypervisor().instanceConsole(def).describe());
        }
        return null;
    }

    private static void line(String key, String value) {
        System.out.println(String.format("%-16s %s", key, value));
    }
}
