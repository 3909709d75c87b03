package org.hvkit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Optional;

import javax.inject.Inject;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.MigrationInfo;
import org.hvkit.hypervisor.MigrationStatus;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/** The fake hypervisor driven through its OSGi service, including a second node from ConfigAdmin. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class FakeServiceIT extends HvkitTestSupport {

    @Inject
    private ConfigurationAdmin configAdmin;

    @Test
    public void startListInfoStopThroughTheService() throws Exception {
        Hypervisor hv = awaitHypervisor("(hypervisor.node=" + NODE_A + ")", Duration.ofSeconds(30));
        Instance web = Instance.builder("web1").memory(512).vcpus(2)
                .nic(new Nic("aa:00:00:00:00:01", null, NicMode.BRIDGED, "br0")).build();
        hv.startInstance(web, false);
        assertEquals(List.of("web1"), hv.listInstances());
        InstanceInfo info = Optional.ofNullable(hv.instanceInfo("web1")).orElseThrow();
        assertEquals(512, info.memoryMiB());
        assertEquals(2, info.vcpus());
        assertEquals(InstanceState.RUNNING, info.state());
        assertTrue("state file in the configured directory",
                Files.isRegularFile(scratch().resolve("fake-a").resolve("web1.json")));
        assertEquals("br0", Optional.ofNullable(hv.runningInstance("web1")).orElseThrow().nics().get(0).link());
        hv.stopInstance(web, false, Duration.ofSeconds(5));
        assertTrue(hv.listInstances().isEmpty());
        hv.cleanupInstance("web1");
    }

    @Test
    public void secondNodeFromFactoryConfigurationAndMigration() throws Exception {
        Hypervisor a = awaitHypervisor("(hypervisor.node=" + NODE_A + ")", Duration.ofSeconds(30));
        Path dirB = scratch().resolve("fake-b");
        Configuration cfg = configAdmin.getFactoryConfiguration("org.hvkit.fake", "node-b", "?");
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("hypervisor.node", "node-b");
        props.put("state.dir", dirB.toString());
        cfg.update(props);
        try {
            Hypervisor b = awaitHypervisor("(hypervisor.node=node-b)", Duration.ofSeconds(30));
            assertEquals("node-b", b.node());

            Instance mover = Instance.builder("mover").memory(64).build();
            a.startInstance(mover, false);
            MigrationInfo info = a.migrationInfo(mover);
            b.acceptInstance(mover, info, "127.0.0.1");
            a.migrateInstance(mover, "127.0.0.1", true);
            b.finalizeMigration(mover, info, true);
            assertEquals(MigrationStatus.State.COMPLETED, a.migrationStatus(mover).status());
            assertFalse(a.listInstances().contains("mover"));
            assertEquals(List.of("mover"), b.listInstances());
            assertEquals("node-b", Optional.ofNullable(b.runningInstance("mover")).orElseThrow().primaryNode());
            assertTrue(Files.isRegularFile(dirB.resolve("mover.json")));
            b.stopInstanceByName("mover");
        } finally {
            cfg.delete();
        }
        waitFor("node-b hypervisor to go away", Duration.ofSeconds(30),
                () -> hypervisorCount() == 1);
    }
}
