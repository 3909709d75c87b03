package org.hvkit.shell.internal;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;

/** Ganeti's {@code BalloonInstanceMemory}: {@code hv:balloon NAME MiB}. */
@Command(scope = "hv", name = "balloon", description = "Sets the memory a running guest holds through its balloon"
        + " device (MiB, at most the instance's memory); the guest gives memory back in its own time (hv:info shows"
        + " what it holds).")
@Service
public final class BalloonCommand extends InstanceAction {

    @Argument(index = 1, name = "MiB", required = true, description = "The memory the guest should hold, in MiB")
    String mib;

    @Override
    Object run(HypervisorRegistry.Entry entry) throws Exception {
        int target = parse(mib);
        Hypervisor hv = entry.hypervisor();
        hv.balloonInstanceMemory(running(hv, name, "balloon the memory of"), target);
        System.out.println("Instance " + name + " on " + entry.label() + ": balloon target " + target + " MiB"
                + InfoCommand.actualMemory(hv, name).map(m -> " (the guest holds " + m + " now)").orElse(""));
        return null;
    }

    /** The MiB argument: a whole positive number, said so when it is not. */
    static int parse(String text) throws HypervisorException {
        String t = text == null ? "" : text.strip();
        if (!t.matches("[0-9]{1,9}") || Integer.parseInt(t) < 1) {
            String shown = t.length() > 20 ? t.substring(0, 20) + "…" : t;
            throw new HypervisorException("MiB must be a whole number of MiB from 1 up to the instance's memory, got '"
                    + shown.replaceAll("\\p{Cntrl}", "?") + "'");
        }
        return Integer.parseInt(t);
    }
}
