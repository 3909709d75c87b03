package org.hvkit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import javax.inject.Inject;

import org.hvkit.netdev.FdMapping;
import org.hvkit.netdev.FileLocks;
import org.hvkit.netdev.LockedFile;
import org.hvkit.netdev.Netlink;
import org.hvkit.netdev.ProcessSpawner;
import org.hvkit.netdev.SpawnRequest;
import org.hvkit.netdev.SpawnResult;
import org.hvkit.netdev.TapDevices;
import org.hvkit.netdev.UnixSocket;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * The native bridge works inside Karaf: JNA's bundle loads its native part and the netdev
 * services answer. (Taps and links are exercised in a private network namespace by the
 * bundle's own tests; this container runs in the host's namespace, so it creates none.)
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class NetdevIT extends HvkitTestSupport {

    @Inject
    private ProcessSpawner spawner;
    @Inject
    private FileLocks locks;
    @Inject
    private Netlink netlink;
    @Inject
    private TapDevices taps;

    @Test
    public void nativeServicesWorkInKaraf() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]) {
            SpawnResult r = spawner.run(SpawnRequest.of(List.of("/bin/sh", "-c", "readlink /proc/$$/fd/7; echo hi >&2"))
                    .withFds(List.of(new FdMapping(a.fd(), 7))), Duration.ofSeconds(30));
            assertTrue(r.toString(), r.succeeded());
            assertTrue(r.stdout(), r.stdout().startsWith("socket:["));
            assertEquals("hi\n", r.stderr());
        }
        Path lockFile = scratch().resolve("lock");
        try (LockedFile held = locks.tryLockExclusive(lockFile).orElseThrow()) {
            assertTrue(locks.tryLockExclusive(lockFile).isEmpty());
        }
        assertEquals("lo", netlink.link("lo").name());
        if (Files.exists(Path.of("/dev/net/tun"))) {
            assertTrue((taps.features().orElseThrow() & TapDevices.IFF_VNET_HDR) != 0);
        }
    }
}
