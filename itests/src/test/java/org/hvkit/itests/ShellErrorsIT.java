package org.hvkit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.time.Duration;

import org.hvkit.hypervisor.Hypervisor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/** Bad input to hv:start gives one clear line naming the problem, and starts nothing. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ShellErrorsIT extends HvkitTestSupport {

    private Hypervisor hv;

    @Before
    public void awaitShell() throws Exception {
        hv = awaitHypervisor("(hypervisor.node=" + NODE_A + ")", Duration.ofSeconds(30));
        awaitShellCommands();
    }

    private String startError(String fileName, String json) throws Exception {
        Path file = writeInstanceFile(fileName, json);
        CommandResult r = run("hv:start " + file);
        assertTrue("hv:start must fail for " + json, r.failed());
        String msg = r.errorMessage();
        assertFalse("one line: " + msg, msg.contains("\n"));
        assertTrue("nothing started", hv.listInstances().isEmpty());
        return msg;
    }

    @Test
    public void malformedJson() throws Exception {
        String msg = startError("bad.json", "{\"name\": \"x\",\n \"nics\": [}");
        assertTrue(msg, msg.startsWith("Invalid instance definition: malformed JSON at line 2, column"));
    }

    @Test
    public void badFieldIsNamed() throws Exception {
        assertEquals("Invalid instance definition: nics[0].mac: 'not-a-mac' is not a valid MAC address"
                + " (expected six colon-separated hex pairs, e.g. aa:00:00:12:34:56)",
                startError("mac.json", "{\"name\": \"x\", \"nics\": [{\"mac\": \"not-a-mac\"}]}"));
        assertEquals("Invalid instance definition: name: is missing (required)", startError("noname.json", "{}"));
    }

    @Test
    public void unknownHypervisorType() throws Exception {
        assertEquals("Unknown hypervisor type 'xen-pvm' (registered: fake)",
                startError("xen.json", "{\"name\": \"x\", \"hypervisor\": \"xen-pvm\"}"));
    }

    @Test
    public void badHvparam() throws Exception {
        assertEquals("Parameter 'kernel_path' is not supported",
                startError("param.json", "{\"name\": \"x\", \"hvparams\": {\"kernel_path\": \"/boot/vmlinuz\"}}"));
        assertEquals("The following hypervisor parameters are global and cannot be customized at instance level,"
                + " please modify them at cluster level: migration_mode",
                startError("global.json", "{\"name\": \"x\", \"hvparams\": {\"migration_mode\": \"sideways\"}}"));
    }

    @Test
    public void missingFile() throws Exception {
        CommandResult r = run("hv:start /nonexistent/instance.json");
        assertTrue(r.failed());
        assertTrue(r.errorMessage(), r.errorMessage().startsWith("Cannot read instance file /nonexistent/instance.json"));
    }

    @Test
    public void unknownNodeRunningInstanceAndCleanupOfALiveOne() throws Exception {
        Path file = writeInstanceFile("live.json", "{\"name\": \"live\"}");
        CommandResult r = run("hv:start -n node-z " + file);
        assertTrue(r.failed());
        assertEquals("No hypervisor on node 'node-z' (registered: fake@node-a)", r.errorMessage());
        assertFalse(run("hv:start " + file).failed());
        try {
            r = run("hv:start " + file);
            assertTrue("starting a running instance fails", r.failed());
            assertEquals("Failed to start instance live: already running on fake@node-a", r.errorMessage());
            r = run("hv:cleanup live");
            assertTrue("cleanup of a running instance fails", r.failed());
            assertEquals("Cannot cleanup a live instance live (running on fake@node-a)", r.errorMessage());
            r = run("hv:migrate live node-z");
            assertTrue(r.failed());
            assertEquals("No fake hypervisor on node 'node-z' (registered: fake@node-a)", r.errorMessage());
        } finally {
            hv.stopInstanceByName("live");
        }
    }

    @Test
    public void unknownInstance() throws Exception {
        CommandResult r = run("hv:stop ghost");
        assertTrue(r.failed());
        assertEquals("Instance 'ghost' is not running on any registered hypervisor (looked at: fake@node-a)",
                r.errorMessage());
    }
}
