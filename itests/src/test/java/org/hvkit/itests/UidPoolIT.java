package org.hvkit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Set;

import javax.inject.Inject;

import org.hvkit.uidpool.ReservedUid;
import org.hvkit.uidpool.UidPool;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;

/** The uid pool configured through ConfigAdmin in Karaf; reserve and release through the service. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class UidPoolIT extends HvkitTestSupport {

    private static final long FIRST = (1L << 30) + 5000;

    @Inject
    private ConfigurationAdmin configAdmin;

    @Test
    public void configureReserveRelease() throws Exception {
        awaitShellCommands();
        assertTrue("no pool before configuration", run("hv:uidpool").failed());
        Path lockDir = scratch().resolve("uid-pool");
        Configuration cfg = configAdmin.getConfiguration("org.hvkit.uidpool", "?");
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("pool", FIRST + "-" + (FIRST + 2));
        props.put("lock.dir", lockDir.toString());
        cfg.update(props);
        try {
            UidPool pool = awaitPool();
            assertEquals(3, pool.size());
            ReservedUid a = pool.reserve();
            ReservedUid b = pool.reserve();
            assertNotEquals(a.uid(), b.uid());
            a.unlock();
            assertTrue(Files.exists(lockDir.resolve(Long.toString(a.uid()))));
            assertEquals(Set.of(a.uid(), b.uid()), pool.taken());

            String out = execute("hv:uidpool");
            assertTrue(out, out.contains(FIRST + "-" + (FIRST + 2)));
            assertTrue(out, out.contains("Taken     2"));
            assertTrue(out, out.contains("Free      1"));

            b.release();
            pool.release(a.uid());
            assertFalse(Files.exists(lockDir.resolve(Long.toString(a.uid()))));
            assertTrue(pool.taken().isEmpty());

            // an invalid pool: the component fails activation with a message naming the key
            props.put("pool", "10-5");
            cfg.update(props);
            String failure = awaitFailedActivation("org.hvkit.uidpool.internal.UidPoolComponent", Duration.ofSeconds(30));
            assertTrue(failure, failure.contains("org.hvkit.uidpool: pool '10-5' is invalid: Lower user-id range"
                    + " boundary value (10) is larger than higher boundary value (5)"));
            CommandResult r = run("hv:uidpool");
            assertTrue("no usable pool", r.failed());
            assertTrue(r.errorMessage(), r.errorMessage().startsWith("No uid pool is configured"));
        } finally {
            cfg.delete();
        }
    }

    private UidPool awaitPool() throws Exception {
        ServiceTracker<UidPool, UidPool> t = new ServiceTracker<>(bundleContext, UidPool.class, null);
        t.open();
        try {
            UidPool p = t.waitForService(30_000);
            if (p == null) {
                throw new AssertionError("no UidPool service");
            }
            return p;
        } finally {
            t.close();
        }
    }
}
