package org.hvkit.shell.internal;

import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.HypervisorException;

@Command(scope = "hv", name = "verify", description = "Checks every registered hypervisor's node setup; fails if"
        + " any problem is found.")
@Service
public final class VerifyCommand extends HvAction {

    @Option(name = "-t", aliases = "--type", description = "Only hypervisors of this type")
    @Completion(TypeCompleter.class)
    String type;

    @Override
    Object run(HypervisorRegistry registry) throws Exception {
        int problems = 0;
        for (HypervisorRegistry.Entry e : registry.select(type, null)) {
            List<String> found = e.hypervisor().verify();
            if (found.isEmpty()) {
                System.out.println(e.label() + ": OK");
            }
            for (String p : found) {
                System.out.println(e.label() + ": " + p);
                problems++;
            }
        }
        if (problems > 0) {
            throw new HypervisorException(problems + " problem(s) found");
        }
        return null;
    }
}
