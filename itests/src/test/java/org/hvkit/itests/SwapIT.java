package org.hvkit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.Instance;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;

/**
 * Hypervisor bundles can be stopped, started and updated at runtime: the service goes and
 * comes back, and the new registration adopts the instances from disk.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SwapIT extends HvkitTestSupport {

    @Test
    public void stopStartAndUpdateTheFakeBundle() throws Exception {
        Hypervisor before = awaitHypervisor("(hypervisor.node=" + NODE_A + ")", Duration.ofSeconds(30));
        awaitShellCommands();
        before.startInstance(Instance.builder("survivor").memory(96).build(), false);
        long idBefore = serviceId();

        Bundle fake = bundle("org.hvkit.fake");
        bundleOperation("bundle:stop", fake::stop);
        waitFor("the fake service to go away", Duration.ofSeconds(30), () -> hypervisorCount() == 0);
        CommandResult r = run("hv:list");
        assertTrue("the shell says there is no hypervisor", r.failed());
        assertTrue(r.errorMessage(), r.errorMessage().startsWith("No hypervisor is registered"));

        bundleOperation("bundle:start", fake::start);
        Hypervisor restarted = awaitHypervisor("(hypervisor.node=" + NODE_A + ")", Duration.ofSeconds(30));
        assertEquals("adopted from disk", List.of("survivor"), restarted.listInstances());
        assertTrue(execute("hv:list").contains("survivor"));
        long idRestarted = serviceId();
        assertNotEquals(idBefore, idRestarted);

        bundleOperation("bundle:update", fake::update);
        waitFor("a new registration after bundle:update", Duration.ofSeconds(30), () -> {
            try {
                return hypervisorCount() == 1 && serviceId() != idRestarted;
            } catch (Exception e) {
                return false;
            }
        });
        Hypervisor updated = awaitHypervisor("(hypervisor.node=" + NODE_A + ")", Duration.ofSeconds(30));
        assertNotSame("consumers see the new service object", restarted, updated);
        assertEquals(List.of("survivor"), updated.listInstances());
        assertEquals(96, Optional.ofNullable(updated.instanceInfo("survivor")).orElseThrow().memoryMiB());
        assertTrue(execute("hv:info survivor").contains("96 MiB"));
        updated.stopInstanceByName("survivor");
    }

    private long serviceId() throws Exception {
        ServiceReference<Hypervisor> ref = bundleContext.getServiceReference(Hypervisor.class);
        if (ref == null) {
            throw new IllegalStateException("no hypervisor service");
        }
        return (Long) ref.getProperty("service.id");
    }
}
