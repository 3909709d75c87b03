package org.hvkit.kvm.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.kvm.internal.StartChecks.Identity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk rules of a start, a migration target and a hot-add ({@link StartChecks}), with a
 * bound on the file system. A {@code stat} on a hard-mounted NFS path whose server is gone
 * waits in the kernel for as long as the server stays away, and no Java thread can be
 * interrupted out of it: unbounded, such a path would hold the operation, its caller and the
 * instance's lock.
 *
 * <ul>
 * <li>The instance's own paths are inspected on a helper thread; when they have not answered
 * within {@link #WAIT}, the operation fails naming the path that hangs, and nothing was started.
 * The helper thread stays blocked until the path answers; at most {@link #MAX_WAITING} such
 * threads exist, after which checks are refused at once.</li>
 * <li>The other running instances' disks are compared by their identities (device number, file
 * system and inode), read once per QEMU process and kept: an instance started here keeps those
 * read at its start, so a path that hangs later is still compared. One read not kept (an
 * instance adopted from an earlier owner) that does not answer within the bound is left out of
 * the comparison with a warning: the instance's own paths answered, so they are not on that
 * file system. These reads have a bound of their own ({@link #WAIT} again), so that a slow own
 * path cannot leave them no time.</li>
 * </ul>
 */
final class DiskChecks implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DiskChecks.class);
    /** How long the disk rules wait for the file system. */
    static final Duration WAIT = Duration.ofSeconds(10);
    /** How many helper threads may wait for paths that do not answer. */
    static final int MAX_WAITING = 8;

    /** The identities kept for one QEMU process, by disk path. */
    private record Kept(long pid, Map<String, Identity> byPath) {
    }

    private final Function<String, Identity> reader;
    private final Function<String, OptionalLong> pidOf;
    private final Duration wait;
    private final Semaphore waiting = new Semaphore(MAX_WAITING);
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "hvkit-disk-check");
        t.setDaemon(true);
        return t;
    });
    /** Reads of other instances' paths in progress: one thread per path however often it is asked. */
    private final Map<String, FutureTask<Identity>> reading = new ConcurrentHashMap<>();
    private final Map<String, Kept> kept = new ConcurrentHashMap<>();

    /**
     * @param pidOf the QEMU pid of a running instance, empty when it does not run
     */
    DiskChecks(Function<String, OptionalLong> pidOf) {
        this(StartChecks::identity, pidOf, WAIT);
    }

    DiskChecks(Function<String, Identity> reader, Function<String, OptionalLong> pidOf, Duration wait) {
        this.reader = reader;
        this.pidOf = pidOf;
        this.wait = wait;
    }

    /**
     * The disk rules of a start or a migration target: every disk of {@code instance} is a
     * block device or a regular image the host does not use ({@link StartChecks#disk}), the
     * media in {@code hv} are not the host's private files ({@link StartChecks#media}), and no
     * disk is a disk of an instance in {@code running} (those running on this node but this
     * one) or twice its own — the same block device or file under any name, links followed, or
     * one inside the other ({@link StartChecks.Identity}). Ganeti gives each disk to one
     * instance; a definition naming another's (a typo, a copied file, a hostile one) would have
     * two guests write one disk.
     *
     * @return the identities of the instance's disks, to {@link #keep} once its QEMU runs
     */
    List<Identity> check(Instance instance, Map<String, Object> hv, Path rootDir, HostDisks hostDisks, String fail,
                         Map<String, Instance> running) throws HypervisorException {
        long deadline = System.nanoTime() + wait.toNanos();
        List<Disk> disks = instance.disks();
        List<Identity> ids = bounded(fail, deadline, at -> {
            List<Identity> out = new ArrayList<>();
            for (int i = 0; i < disks.size(); i++) {
                String field = "disks[" + i + "].dev_path " + disks.get(i).devPath();
                at.set(field);
                StartChecks.disk(disks.get(i), fail, field, rootDir, hostDisks);
                out.add(reader.apply(disks.get(i).devPath()));
            }
            at.set("its kernel, initrd, CD-ROM or floppy image");
            StartChecks.media(hv, rootDir, fail);
            return out;
        });
        // the others get a bound of their own: a slow own path must not leave them no time
        Map<String, List<Identity>> theirs = others(instance.name(), running, System.nanoTime() + wait.toNanos());
        for (int i = 0; i < ids.size(); i++) {
            String path = disks.get(i).devPath();
            for (Map.Entry<String, List<Identity>> other : theirs.entrySet()) {
                int j = StartChecks.indexOf(ids.get(i), other.getValue());
                if (j >= 0) {
                    throw new HypervisorException(fail + "disks[" + i + "].dev_path " + path + " is disks[" + j
                            + "] of instance " + other.getKey() + " running on this node ("
                            + running.get(other.getKey()).disks().get(j).devPath()
                            + "); two guests writing one disk corrupt it");
                }
            }
            int k = StartChecks.indexOf(ids.get(i), ids.subList(0, i));
            if (k >= 0) {
                throw new HypervisorException(fail + "disks[" + i + "].dev_path " + path + " is disks[" + k
                        + "] (" + disks.get(k).devPath() + ") again");
            }
        }
        return ids;
    }

    /**
     * The disk rules of a hot-add: {@code added} is a block device or a regular image the host
     * does not use, and neither one of {@code current}'s disks (the running instance it goes
     * to) nor one of another instance in {@code running}.
     *
     * @param field how the message names the disk
     * @return the new disk's identity, to {@link #keep} once QEMU has it
     */
    Identity checkAdded(Instance current, Disk added, String field, Path rootDir, HostDisks hostDisks, String fail,
                        Map<String, Instance> running) throws HypervisorException {
        long deadline = System.nanoTime() + wait.toNanos();
        Identity id = bounded(fail, deadline, at -> {
            at.set(field);
            StartChecks.disk(added, fail, field, rootDir, hostDisks);
            return reader.apply(added.devPath());
        });
        Map<String, Instance> all = new LinkedHashMap<>(running);
        all.put(current.name(), current);
        Map<String, List<Identity>> known = others(null, all, System.nanoTime() + wait.toNanos());
        int mine = StartChecks.indexOf(id, known.getOrDefault(current.name(), List.of()));
        if (mine >= 0) {
            throw new HypervisorException(fail + "the instance has this disk already (disks[" + mine + "])");
        }
        for (Map.Entry<String, List<Identity>> other : known.entrySet()) {
            if (!other.getKey().equals(current.name()) && StartChecks.indexOf(id, other.getValue()) >= 0) {
                throw new HypervisorException(fail + "instance " + other.getKey() + " running on this node uses"
                        + " it (two guests writing one disk corrupt it)");
            }
        }
        return id;
    }

    /**
     * Every parameter of {@code hv} that names an absolute path (kernel, initrd, images, password
     * and certificate files, {@code mem_path}, …) answers a {@code stat} within {@link #WAIT}:
     * run before the parameter checks, which look at those files without a bound, so that a
     * path on a hung file system fails the operation naming the parameter instead of holding it.
     */
    void filesAnswer(Map<String, Object> hv, String fail) throws HypervisorException {
        bounded(fail, System.nanoTime() + wait.toNanos(), at -> {
            for (Map.Entry<String, Object> e : new java.util.TreeMap<>(hv).entrySet()) {
                if (e.getValue() instanceof String v && v.startsWith("/")) {
                    at.set(e.getKey() + " " + v);
                    reader.apply(v);
                }
            }
            return null;
        });
    }

    /** Keeps the identities read at a start (or hot-add) for {@code name}'s QEMU {@code pid}. */
    void keep(String name, long pid, List<Disk> disks, List<Identity> ids) {
        Kept k = kept.compute(name, (n, old) -> old != null && old.pid() == pid ? old
                : new Kept(pid, new ConcurrentHashMap<>()));
        for (int i = 0; i < disks.size(); i++) {
            if (ids.get(i) != null) {
                k.byPath().put(disks.get(i).devPath(), ids.get(i));
            }
        }
    }

    /** The identities of the running instances' disks but {@code except}'s, kept or read within the deadline. */
    private Map<String, List<Identity>> others(String except, Map<String, Instance> running, long deadline) {
        // what was kept of processes that are gone goes
        kept.entrySet().removeIf(e -> pidOf.apply(e.getKey()).orElse(-1) != e.getValue().pid());
        Map<String, List<Identity>> out = new LinkedHashMap<>();
        for (Map.Entry<String, Instance> e : running.entrySet()) {
            String name = e.getKey();
            if (name.equals(except)) {
                continue;
            }
            OptionalLong pid = pidOf.apply(name);
            if (pid.isEmpty()) {
                continue; // gone since it was listed
            }
            Kept k = kept.compute(name, (n, old) -> old != null && old.pid() == pid.getAsLong() ? old
                    : new Kept(pid.getAsLong(), new ConcurrentHashMap<>()));
            List<Identity> ids = new ArrayList<>();
            for (Disk d : e.getValue().disks()) {
                Identity id = k.byPath().get(d.devPath());
                if (id == null) {
                    id = read(name, d.devPath(), deadline);
                    if (id != null) {
                        k.byPath().put(d.devPath(), id);
                    }
                }
                ids.add(id);
            }
            out.put(name, ids);
        }
        return out;
    }

    /** Another instance's path, read on a helper thread; null when it cannot be read or told in time. */
    private Identity read(String owner, String path, long deadline) {
        FutureTask<Identity> task = reading.get(path);
        if (task == null) {
            if (!waiting.tryAcquire()) {
                LOG.warn("Disk {} of instance {} is not compared: {} disk checks are still waiting for paths that"
                        + " do not answer", path, owner, MAX_WAITING);
                return null;
            }
            FutureTask<Identity> mine = new FutureTask<>(() -> {
                try {
                    return reader.apply(path);
                } finally {
                    waiting.release();
                }
            }) {
                @Override
                protected void done() {
                    reading.remove(path, this);
                }
            };
            task = reading.putIfAbsent(path, mine);
            if (task != null) {
                waiting.release(); // another check started the same read meanwhile: wait for that one
            } else {
                task = mine;
                try {
                    threads.execute(mine);
                } catch (RuntimeException e) {
                    reading.remove(path, mine);
                    waiting.release();
                    return null;
                }
            }
        }
        try {
            return task.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            LOG.warn("Disk {} of instance {} did not answer within {} (a hung network file system?); it is not"
                    + " compared", path, owner, shown(wait));
            return null;
        } catch (ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** A check of the instance's own paths, run on a helper thread and waited for until {@code deadline}. */
    private <T> T bounded(String fail, long deadline, Body<T> body) throws HypervisorException {
        if (!waiting.tryAcquire()) {
            throw new HypervisorException(fail + MAX_WAITING + " disk checks are still waiting for paths that do not"
                    + " answer (a hung network file system?); try again when they answer");
        }
        AtomicReference<String> at = new AtomicReference<>("its disks");
        FutureTask<T> task = new FutureTask<>(() -> {
            try {
                return body.run(at);
            } finally {
                waiting.release();
            }
        });
        try {
            threads.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            waiting.release();
            throw new HypervisorException(fail + "the KVM hypervisor of this node is stopping; nothing was checked", e);
        }
        try {
            return task.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new HypervisorException(fail + at.get() + " did not answer within " + shown(wait)
                    + " (a hung network file system or device?)");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof HypervisorException h) {
                throw h;
            }
            throw new HypervisorException(fail + at.get() + " cannot be inspected: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HypervisorException(fail + "interrupted while checking " + at.get(), e);
        }
    }

    private static String shown(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    @FunctionalInterface
    private interface Body<T> {
        T run(AtomicReference<String> at) throws HypervisorException;
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }
}
