package org.hvkit.uidpool.internal;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Set;

import org.hvkit.netdev.FileLocks;
import org.hvkit.uidpool.ReservedUid;
import org.hvkit.uidpool.UidPool;
import org.hvkit.uidpool.UidPoolException;
import org.hvkit.uidpool.UidRange;
import org.hvkit.uidpool.UidRanges;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link UidPool} service, configured by {@value #PID}. Without a configuration, or with
 * an invalid one, there is no service (the log says which key is wrong and why). Immediate,
 * so that a bad configuration is rejected when it arrives, not on the service's first use.
 */
@Component(service = UidPool.class, configurationPid = UidPoolComponent.PID, immediate = true,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = UidPoolConfiguration.class)
public final class UidPoolComponent implements UidPool {

    static final String PID = "org.hvkit.uidpool";
    private static final Logger LOG = LoggerFactory.getLogger(UidPoolComponent.class);

    private final FlockUidPool pool;

    @Activate
    public UidPoolComponent(@Reference FileLocks locks, UidPoolConfiguration config) {
        List<UidRange> ranges = parse(config.pool());
        String dir = config.lock_dir();
        if (dir == null || !dir.startsWith("/") || !Path.of(dir).normalize().toString().equals(dir)) {
            throw fail("lock.dir", "must be an absolute normalized path, got '" + dir + "'");
        }
        pool = new FlockUidPool(ranges, Path.of(dir), locks, new ProcessUids(), new SecureRandom());
        try {
            pool.ensureLockDir();
        } catch (UidPoolException e) {
            throw fail("lock.dir", e.getMessage());
        }
        if (!java.nio.file.Files.isWritable(pool.lockDir())) {
            throw fail("lock.dir", "directory " + dir + " is not writable");
        }
        LOG.info("uid pool {} ({} uids), lock files in {}", UidRanges.format(ranges), pool.size(), dir);
    }

    private static List<UidRange> parse(String value) {
        if (value == null || value.isBlank()) {
            throw fail("pool", "is empty; give uids like '4000-4019, 4100'");
        }
        try {
            List<UidRange> ranges = UidRanges.parse(value);
            UidRanges.check(ranges);
            if (ranges.isEmpty()) {
                throw fail("pool", "has no uids; give uids like '4000-4019, 4100'");
            }
            return ranges;
        } catch (UidPoolException e) {
            throw fail("pool", "'" + value + "' is invalid: " + e.getMessage());
        }
    }

    private static IllegalArgumentException fail(String key, String why) {
        String msg = PID + ": " + key + " " + why;
        LOG.error("{}", msg);
        return new IllegalArgumentException(msg);
    }

    @Override
    public List<UidRange> ranges() {
        return pool.ranges();
    }

    @Override
    public long size() {
        return pool.size();
    }

    @Override
    public Path lockDir() {
        return pool.lockDir();
    }

    @Override
    public Set<Long> taken() throws UidPoolException {
        return pool.taken();
    }

    @Override
    public ReservedUid reserve() throws UidPoolException {
        return pool.reserve();
    }

    @Override
    public void release(long uid) throws UidPoolException {
        pool.release(uid);
    }
}
