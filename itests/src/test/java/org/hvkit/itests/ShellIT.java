package org.hvkit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.hvkit.hypervisor.Hypervisor;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/** The hv:* commands, as an operator types them, on the fake hypervisor. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ShellIT extends HvkitTestSupport {

    private static final String DEMO = "{\"name\": \"demo\", \"hypervisor\": \"fake\","
            + " \"beparams\": {\"memory\": 128, \"vcpus\": 1},"
            + " \"nics\": [{\"mac\": \"aa:00:00:00:00:02\", \"nicparams\": {\"mode\": \"bridged\", \"link\": \"br0\"}}]}";

    @Test
    public void operatorStory() throws Exception {
        Hypervisor hv = awaitHypervisor("(hypervisor.node=" + NODE_A + ")", Duration.ofSeconds(30));
        awaitShellCommands();

        String types = execute("hv:types");
        assertTrue(types, types.contains("fake") && types.contains(NODE_A) && types.contains("org.hvkit.fake"));

        Path file = writeInstanceFile("demo.json", DEMO);
        String started = execute("hv:start " + file);
        assertTrue(started, started.contains("Instance demo started on fake@" + NODE_A));
        assertEquals(List.of("demo"), hv.listInstances());

        String list = execute("hv:list");
        assertTrue(list, list.contains("demo") && list.contains("running") && list.contains("128"));
        assertTrue(execute("hv:list -t fake").contains("demo"));

        String info = execute("hv:info demo");
        assertTrue(info, info.contains("aa:00:00:00:00:02 bridged br0"));
        assertTrue(info, info.contains("Console not available for fake hypervisor"));

        assertTrue(execute("hv:verify").contains("fake@" + NODE_A + ": OK"));
        assertTrue(execute("hv:reboot demo").contains("Instance demo rebooted on fake@" + NODE_A));
        assertTrue(execute("hv:params fake").contains("migration_mode"));

        String stopped = execute("hv:stop demo");
        assertTrue(stopped, stopped.contains("Instance demo stopped"));
        assertTrue(hv.listInstances().isEmpty());
        assertTrue(execute("hv:list").contains("(no instances)"));

        // paused start is visible in the list
        execute("hv:start --paused " + file);
        assertTrue(execute("hv:list").contains("paused"));
        execute("hv:stop --force demo");
    }
}
