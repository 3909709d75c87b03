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
            // no pipeline in the shell whose descriptors are listed: a shell holds a pipe's ends for a
            // moment while it starts the next stage, which a listing from inside the pipeline can see
            SpawnResult r = spawner.run(SpawnRequest.of(List.of("/bin/sh", "-c",
                    "readlink /proc/$$/fd/5; grep iff /proc/$$/fdinfo/5; ls /proc/$$/fd"))
                    .withFds(List.of(new FdMapping(tap.fd(), 5))), TIMEOUT);
            assertTrue(r.succeeded(), r.toString());
            String[] lines = r.stdout().split("\n");
            assertEquals("/dev/net/tun", lines[0]);
            assertEquals("iff:\t" + tap.name(), lines[1]);
            String open = java.util.Arrays.stream(lines, 2, lines.length).map(String::trim)
                    .sorted(java.util.Comparator.comparingInt(Integer::parseInt)).collect(java.util.stream.Collectors.joining(" "));
            assertEquals("0 1 2 5", open, "only stdio and the mapped descriptor are open in the child");
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
    void timeoutKillsWhatAHungScriptStarted(@TempDir Path dir) throws Exception {
        Path script = Files.writeString(dir.resolve("hang"), "#!/bin/sh\nsleep 1000 &\necho $!\nsleep 1000\n");
        assertTrue(script.toFile().setExecutable(true));
        long t0 = System.nanoTime();
        SpawnResult r = spawner.run(SpawnRequest.of(List.of(script.toString())), Duration.ofSeconds(1));
        long millis = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("timeoutKillsWhatAHungScriptStarted: returned after " + millis + " ms");
        try {
            assertTrue(r.timedOut(), r.toString());
            assertTrue(millis < 2_500, "returned " + millis + " ms after a 1 s timeout");
            long background = Long.parseLong(r.stdout().trim());
            // SIGKILL is delivered asynchronously: give the group a moment to die
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (!PrivateNetns.runningInGroup(r.pid()).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(List.of(), PrivateNetns.runningInGroup(r.pid()), "processes left in group " + r.pid());
            assertFalse(PrivateNetns.running(background), "the script's background sleep " + background);
        } finally {
            for (long pid : PrivateNetns.runningInGroup(r.pid())) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    void aDaemonLeftBehindByAChildThatExitedLivesOn() throws Exception {
        // what QEMU -daemonize looks like from here: the child exits, a process it started keeps
        // running and holds the output pipes for a while; its group must not be killed
        long t0 = System.nanoTime();
        SpawnResult r = sh("sleep 1000 & echo $!");
        long millis = (System.nanoTime() - t0) / 1_000_000;
        long daemon = Long.parseLong(r.stdout().trim());
        try {
            assertTrue(r.succeeded(), r.toString());
            assertTrue(millis < 5_000, "returned " + millis + " ms after the child exited, not when the daemon did");
            assertTrue(PrivateNetns.running(daemon), "the daemon " + daemon + " lives on");
            assertEquals(List.of(daemon), PrivateNetns.runningInGroup(r.pid()));
        } finally {
            ProcessHandle.of(daemon).ifPresent(ProcessHandle::destroyForcibly);
        }
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
        Path qemu = PrivateNetns.qemu("realQemuHoldsTheTapHandedOver");
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
