package org.hvkit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.Collection;

import javax.inject.Inject;

import org.apache.karaf.features.FeaturesService;
import org.hvkit.hypervisor.Hypervisor;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;

/** The hvkit feature installs and publishes the fake hypervisor with its service properties. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class FeatureIT extends HvkitTestSupport {

    @Inject
    private FeaturesService featuresService;

    @Test
    public void featuresAreInstalled() throws Exception {
        for (String f : new String[] {"hvkit", "hvkit-spi", "hvkit-fake", "hvkit-shell"}) {
            // the features service may still be reading its repositories when the test starts
            waitFor("feature " + f + " to be known", Duration.ofSeconds(30), () -> {
                try {
                    return featuresService.getFeature(f) != null;
                } catch (Exception e) {
                    return false;
                }
            });
            assertTrue(f + " installed", featuresService.isInstalled(featuresService.getFeature(f)));
        }
        for (String bsn : new String[] {"org.hvkit.hypervisor", "org.hvkit.fake", "org.hvkit.shell",
            "com.fasterxml.jackson.core.jackson-databind"}) {
            assertEquals(bsn + " active", Bundle.ACTIVE, bundle(bsn).getState());
        }
    }

    @Test
    public void fakeHypervisorServiceHasItsProperties() throws Exception {
        Hypervisor hv = awaitHypervisor("(hypervisor.type=fake)", Duration.ofSeconds(30));
        Collection<ServiceReference<Hypervisor>> refs =
                bundleContext.getServiceReferences(Hypervisor.class, "(hypervisor.type=fake)");
        assertEquals(1, refs.size());
        ServiceReference<Hypervisor> ref = refs.iterator().next();
        assertEquals("fake", ref.getProperty(Hypervisor.TYPE_PROPERTY));
        assertEquals(NODE_A, ref.getProperty(Hypervisor.NODE_PROPERTY));
        assertEquals("org.hvkit.fake", ref.getBundle().getSymbolicName());
        assertEquals("fake", hv.type());
        assertEquals(NODE_A, hv.node());
        assertTrue(hv.canMigrate());
        assertEquals(hv.parameters().keySet(), hv.defaults().keySet());
        assertTrue(hv.verify().isEmpty());
        assertTrue(hv.nodeInfo().memoryTotal() > 0);
    }
}
