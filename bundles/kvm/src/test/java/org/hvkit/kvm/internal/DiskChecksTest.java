package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bound and the memory of {@link DiskChecks}. A hard-mounted NFS path whose server is gone
 * cannot be made on a test machine, so the identity reader is replaced: a path listed in
 * {@code hung} blocks its reader until the test ends, as such a {@code stat} blocks in the
 * kernel. The paths themselves are real image files (the type and host-use rules run on them);
 * the rules on real devices and QEMU are fault cases J18–J20 and KvmDiskHotplugTest.
 */
class DiskChecksTest {

    private static final Duration WAIT = Duration.ofMillis(300);
    private static final Map<String, Object> NO_MEDIA = Map.of();
    /** Image files in the temp directory are allowed disks (node key disk.file.dirs). */
    private static final HostDisks FILES = new HostDisks(Set.of(), KvmTestNode.DISK_DIRS);

    @TempDir
    Path tmp;

    private final CountDownLatch release = new CountDownLatch(1);
    private final Set<String> hung = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicLong> reads = new ConcurrentHashMap<>();
    private final Map<String, StartChecks.Identity> identities = new ConcurrentHashMap<>();
    private final Map<String, Long> pids = new ConcurrentHashMap<>();
    private final DiskChecks checks = new DiskChecks(this::read,
            n -> pids.containsKey(n) ? OptionalLong.of(pids.get(n)) : OptionalLong.empty(), WAIT);

    @AfterEach
    void releaseTheReaders() {
        release.countDown();
        checks.close();
    }

    private StartChecks.Identity read(String path) {
        reads.computeIfAbsent(path, p -> new AtomicLong()).incrementAndGet();
        if (hung.contains(path)) {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return identities.get(path);
    }

    /** A real image file whose identity is {@code id}. */
    private String image(String name, String id) throws Exception {
        String path = Files.writeString(tmp.resolve(name), "disk").toString();
        identities.put(path, new StartChecks.Identity(id, Set.of()));
        return path;
    }

    private static Instance instance(String name, String... disks) {
        Instance.Builder b = Instance.builder(name);
        for (String d : disks) {
            b.disk(new Disk(d, DiskMode.RW, 0));
        }
        return b.build();
    }

    private List<StartChecks.Identity> start(Instance i, Map<String, Instance> running) throws HypervisorException {
        return checks.check(i, NO_MEDIA, tmp.resolve("root"), FILES, "Failed to start instance " + i.name() + ": ",
                running);
    }

    @Test
    void anOwnDiskThatDoesNotAnswerFailsTheStartWithinTheBoundNamingIt() throws Exception {
        String a = image("a.img", "A");
        String b = image("b.img", "B");
        hung.add(b);
        HypervisorException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(HypervisorException.class, () -> start(instance("x", a, b), Map.of())));
        assertEquals("Failed to start instance x: disks[1].dev_path " + b + " did not answer within 300 ms (a hung"
                + " network file system or device?)", e.getMessage());
    }

    @Test
    void anotherInstancesDiskThatDoesNotAnswerIsLeftOutAndReadByOneThread() throws Exception {
        String a = image("a.img", "A");
        String b = image("b.img", "B");
        pids.put("y", 42L);
        hung.add(b);
        Map<String, Instance> running = Map.of("y", instance("y", b));
        for (int i = 0; i < 3; i++) {
            assertEquals(List.of(new StartChecks.Identity("A", Set.of())), assertTimeoutPreemptively(
                    Duration.ofSeconds(10), () -> start(instance("x", a), running)));
        }
        assertEquals(1, reads.get(b).get(), "one read of the hung path, however often it is asked");
    }

    @Test
    void whatWasReadAtAStartIsComparedEvenWhenItsPathHangsLater() throws Exception {
        String b = image("b.img", "B");
        String alias = image("alias.img", "B"); // another name of y's disk
        Instance y = instance("y", b);
        pids.put("y", 42L);
        checks.keep("y", 42, y.disks(), start(y, Map.of()));
        hung.add(b);
        HypervisorException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(
                HypervisorException.class, () -> start(instance("x", alias), Map.of("y", y))));
        assertEquals("Failed to start instance x: disks[0].dev_path " + alias + " is disks[0] of instance y running on"
                + " this node (" + b + "); two guests writing one disk corrupt it", e.getMessage());
        assertEquals(1, reads.get(b).get(), "read at y's start only");
    }

    @Test
    void aNewQemuProcessIsReadAgain() throws Exception {
        String a = image("a.img", "A");
        String b = image("b.img", "B");
        Map<String, Instance> running = Map.of("y", instance("y", b));
        pids.put("y", 42L);
        start(instance("x", a), running);
        start(instance("x", a), running);
        assertEquals(1, reads.get(b).get(), "kept for pid 42");
        pids.put("y", 43L); // y restarted: its disk may be another file now
        identities.put(b, new StartChecks.Identity("A", Set.of()));
        HypervisorException e = assertThrows(HypervisorException.class, () -> start(instance("x", a), running));
        assertEquals("Failed to start instance x: disks[0].dev_path " + a + " is disks[0] of instance y running on"
                + " this node (" + b + "); two guests writing one disk corrupt it", e.getMessage());
    }

    @Test
    void threadsWaitingForHungPathsAreBoundedThenChecksAreRefusedAtOnce() throws Exception {
        for (int i = 0; i < DiskChecks.MAX_WAITING; i++) {
            String p = image("hung" + i + ".img", "H" + i);
            hung.add(p);
            assertThrows(HypervisorException.class, () -> start(instance("x", p), Map.of()));
        }
        String a = image("a.img", "A");
        HypervisorException e = assertThrows(HypervisorException.class, () -> start(instance("x", a), Map.of()));
        assertEquals("Failed to start instance x: " + DiskChecks.MAX_WAITING + " disk checks are still waiting for"
                + " paths that do not answer (a hung network file system?); try again when they answer", e.getMessage());
        assertEquals(null, reads.get(a), "refused before anything was read");
        release.countDown(); // the file system answers again: the threads end and give their places back
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                start(instance("x", a), Map.of());
                break;
            } catch (HypervisorException stillWaiting) {
                if (System.nanoTime() > deadline) {
                    throw stillWaiting;
                }
                Thread.sleep(10);
            }
        }
    }

    @Test
    void aParameterNamingAFileThatDoesNotAnswerFailsWithinTheBoundNamingIt() throws Exception {
        String kernel = image("vmlinuz", "K");
        String password = image("vnc.pw", "P");
        hung.add(password);
        java.util.Map<String, Object> hv = new java.util.LinkedHashMap<>();
        hv.put("kernel_path", kernel);
        hv.put("kernel_args", "ro /x");
        hv.put("memory", 128);
        hv.put("vnc_password_file", password);
        HypervisorException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(HypervisorException.class, () -> checks.filesAnswer(hv, "Failed to start instance"
                        + " x: ")));
        assertEquals("Failed to start instance x: vnc_password_file " + password + " did not answer within 300 ms (a"
                + " hung network file system or device?)", e.getMessage());
        assertEquals(null, reads.get("ro /x"), "values that are no path are not looked at");
        hv.remove("vnc_password_file");
        checks.filesAnswer(hv, "");
        assertEquals(2, reads.get(kernel).get(), "each path is looked at");
    }

    @Test
    void aHotAddRefusesADiskTheInstanceHasOrAnotherUses() throws Exception {
        String a = image("a.img", "A");
        String b = image("b.img", "B");
        String aliasA = image("alias-a.img", "A");
        String aliasB = image("alias-b.img", "B");
        pids.put("x", 41L);
        pids.put("y", 42L);
        Instance x = instance("x", a);
        Map<String, Instance> others = Map.of("y", instance("y", b));
        String fail = "Cannot hot-add: ";
        assertEquals("Cannot hot-add: the instance has this disk already (disks[0])", assertThrows(
                HypervisorException.class, () -> checks.checkAdded(x, new Disk(aliasA, DiskMode.RW, 0), "dev_path",
                        tmp.resolve("root"), FILES, fail, others)).getMessage());
        assertEquals("Cannot hot-add: instance y running on this node uses it (two guests writing one disk corrupt it)",
                assertThrows(HypervisorException.class, () -> checks.checkAdded(x, new Disk(aliasB, DiskMode.RW, 0),
                        "dev_path", tmp.resolve("root"), FILES, fail, others)).getMessage());
        String c = image("c.img", "C");
        assertEquals(new StartChecks.Identity("C", Set.of()),
                checks.checkAdded(x, new Disk(c, DiskMode.RW, 0), "dev_path", tmp.resolve("root"), FILES, fail, others));
    }
}
