package org.hvkit.netdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.hvkit.netdev.internal.PosixSpawner;
import org.hvkit.netdev.internal.RtNetlink;
import org.hvkit.netdev.internal.TunTapDevices;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessSpawnerTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private final ProcessSpawner spawner = new PosixSpawner();
    private final TapDevices taps = new TunTapDevices();

    @BeforeEach
    void privateNetns() {
        PrivateNetns.require();
    }

    private SpawnResult sh(String script) throws NativeException {
        return spawner.run(SpawnRequest.of(List.of("/bin/sh", "-c", script)), TIMEOUT);
    }

    @Test
    void childSeesTheTapAtThePromisedNumberAndNothingElse() throws Exception {
        try (Tap tap = taps.open(null, true)) {
            SpawnResult r = spawner.run(SpawnRequest.of(List.of("/bin/sh", "-c",
                    "readlink /proc/$$/fd/5; grep iff /proc/$$/fdinfo/5; ls /proc/$$/fd | sort -n | tr '\\n' ' '"))
                    .withFds(List.of(new FdMapping(tap.fd(), 5))), TIMEOUT);
            assertTrue(r.succeeded(), r.toString());
            String[] lines = r.stdout().split("\n");
            assertEquals("/dev/net/tun", lines[0]);
            assertEquals("iff:\t" + tap.name(), lines[1]);
            assertEquals("0 1 2 5", lines[2].trim(), "only stdio and the mapped descriptor are open in the child");
        }
    }

    @Test
    void crossingMappingsLandOnTheirTargets() throws Exception {
        try (Tap a = taps.open(null, false); Tap b = taps.open(null, false)) {
            // map each tap onto the other's number (and beyond), so a naive dup2 order would clobber one
            int na = a.fd().fd();
            int nb = b.fd().fd();
            SpawnResult r = spawner.run(SpawnRequest.of(List.of("/bin/sh", "-c",
                    "grep iff /proc/$$/fdinfo/" + nb + "; grep iff /proc/$$/fdinfo/" + na))
                    .withFds(List.of(new FdMapping(a.fd(), nb), new FdMapping(b.fd(), na))), TIMEOUT);
            assertEquals("iff:\t" + a.name() + "\niff:\t" + b.name() + "\n", r.stdout(), r.toString());
        }
    }

    @Test
    void environmentWorkDirAndOutput(@TempDir Path dir) throws Exception {
        SpawnResult r = spawner.run(new SpawnRequest(List.of("sh", "-c", "echo $FOO; pwd; echo oops >&2"),
                Map.of("FOO", "bar", "PATH", "/usr/bin:/bin"), dir, List.of()), TIMEOUT);
        assertEquals("bar\n" + dir.toRealPath() + "\n", r.stdout());
        assertEquals("oops\n", r.stderr());
        assertEquals("bar\n" + dir.toRealPath() + "\noops", r.output());
    }

    @Test
    void exitCodesSignalsAndTimeouts() throws Exception {
        SpawnResult r = sh("exit 3");
        assertEquals(3, r.exitCode());
        assertEquals("exited with exit code 3", r.failReason());
        r = sh("kill -9 $$");
        assertEquals(9, r.signal());
        assertEquals("terminated by signal 9", r.failReason());
        long t0 = System.nanoTime();
        r = spawner.run(SpawnRequest.of(List.of("sleep", "30")), Duration.ofMillis(300));
        assertTrue(r.timedOut());
        assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "killed at the timeout, not after 30 s");
        r = sh("kill -TERM $$; sleep 1; echo survived");
        assertEquals(15, r.signal(), "SIGTERM has its default action in the child: " + r);
    }

    @Test
    void missingProgram() {
        NativeException e = assertThrows(NativeException.class,
                () -> spawner.run(SpawnRequest.of(List.of("no-such-program-hvkit")), TIMEOUT));
        assertTrue(e.getMessage().startsWith("Cannot run no-such-program-hvkit: not found in PATH"), e.getMessage());
        e = assertThrows(NativeException.class,
                () -> spawner.run(SpawnRequest.of(List.of("/nonexistent/prog")), TIMEOUT));
        assertEquals(2, e.errno(), e.getMessage());
    }

    @Test
    void realQemuHoldsTheTapHandedOver(@TempDir Path dir) throws Exception {
        Path qemu = Path.of("/usr/bin/qemu-system-x86_64");
        if (!Files.isExecutable(qemu)) {
            System.out.println("*** SKIPPED realQemuHoldsTheTapHandedOver: " + qemu + " is not installed"
                    + " (apt-get install qemu-system-x86) ***");
            org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(qemu), "qemu-system-x86 missing");
        }
        Netlink netlink = new RtNetlink();
        Path pidFile = dir.resolve("qemu.pid");
        String tapName;
        long pid;
        try (Tap tap = taps.open(null, true)) {
            tapName = tap.name();
            SpawnResult r = spawner.run(SpawnRequest.of(List.of(qemu.toString(), "-name", "hvkit-spawn-test",
                    "-machine", "pc", "-accel", "tcg", "-m", "32", "-nodefaults", "-display", "none", "-S",
                    "-daemonize", "-pidfile", pidFile.toString(),
                    "-netdev", "type=tap,id=n0,fd=3", "-device", "virtio-net-pci,netdev=n0"))
                    .withFds(List.of(new FdMapping(tap.fd(), 3))), TIMEOUT);
            assertTrue(r.succeeded(), "QEMU failed: " + r.failReason() + ": " + r.output());
            pid = Long.parseLong(Files.readString(pidFile).trim());
        }
        try {
            // our copy is closed: only QEMU holds the tap now (carrier is reported for up links only)
            netlink.setUp(tapName);
            LinkInfo info = netlink.link(tapName);
            assertTrue(info.isLowerUp(), "QEMU holds " + tapName + ": " + info);
        } finally {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (netlink.findLink(tapName).isPresent() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertFalse(netlink.findLink(tapName).isPresent(), "the tap disappears once QEMU is gone");
    }
}
