package org.hvkit.netdev;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

import org.hvkit.netdev.internal.LibC;
import org.hvkit.netdev.internal.PosixSpawner;
import org.hvkit.netdev.internal.TunTapDevices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixSocketTest {

    @Test
    void descriptorArrivesInThePeer(@TempDir Path dir) throws Exception {
        PrivateNetns.require();
        try (Tap tap = new TunTapDevices().open(null, false)) {
            UnixSocket[] pair = UnixSocket.pair();
            try (UnixSocket a = pair[0]; UnixSocket b = pair[1]) {
                a.send("getfd tap".getBytes(StandardCharsets.UTF_8), List.of(tap.fd()));
                UnixSocket.Received got = b.receive(64, 4, Duration.ofSeconds(5));
                assertEquals("getfd tap", new String(got.data(), StandardCharsets.UTF_8));
                assertEquals(1, got.fds().size());
                try (NativeFd received = got.fds().get(0)) {
                    assertTrue(received.fd() != tap.fd().fd(), "a new descriptor in the receiver");
                    String info = Files.readString(Path.of("/proc/self/fdinfo/" + received.fd()));
                    assertTrue(info.contains("iff:\t" + tap.name()), info);
                }
            }
        }
    }

    @Test
    void plainDataAndTimeouts(@TempDir Path dir) throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]) {
            NativeException e = assertThrows(NativeException.class, () -> b.receive(8, 1, Duration.ofMillis(50)));
            assertEquals(11, e.errno());
            a.write(new byte[] {1, 2, 3});
            byte[] buf = new byte[8];
            assertEquals(3, b.read(buf, Duration.ofSeconds(1)));
            assertArrayEquals(new byte[] {1, 2, 3}, java.util.Arrays.copyOf(buf, 3));
            a.close();
            assertEquals(-1, b.read(buf, Duration.ofSeconds(1)));
        }
    }

    @Test
    void awaitReadableLooksWithoutThrowing() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]) {
            assertFalse(b.awaitReadable(Duration.ZERO), "nothing sent yet");
            assertFalse(b.awaitReadable(Duration.ofMillis(20)));
            a.write(new byte[] {7});
            assertTrue(b.awaitReadable(Duration.ZERO), "data waiting");
            assertEquals(1, b.read(new byte[4], Duration.ZERO));
            assertFalse(b.awaitReadable(Duration.ZERO), "consumed");
            a.close();
            assertTrue(b.awaitReadable(Duration.ZERO), "the end of the stream is readable too");
            assertEquals(-1, b.read(new byte[4], Duration.ZERO));
        }
    }

    @Test
    void awaitAnyReadableSaysWhichOfSeveralSockets() throws Exception {
        UnixSocket[] one = UnixSocket.pair();
        UnixSocket[] two = UnixSocket.pair();
        try (UnixSocket a = one[0]; UnixSocket b = one[1]; UnixSocket c = two[0]; UnixSocket d = two[1]) {
            assertTrue(UnixSocket.awaitAnyReadable(List.of(b, d), Duration.ofMillis(20)).isEmpty(), "nothing yet");
            assertTrue(UnixSocket.awaitAnyReadable(List.of(), Duration.ZERO).isEmpty());
            a.write(new byte[] {1});
            assertEquals(java.util.BitSet.valueOf(new long[] {0b01}),
                    UnixSocket.awaitAnyReadable(List.of(b, d), Duration.ofSeconds(1)));
            c.close(); // a peer that closes is readable (the end of the stream)
            assertEquals(java.util.BitSet.valueOf(new long[] {0b11}),
                    UnixSocket.awaitAnyReadable(List.of(b, d), Duration.ZERO));
            long t0 = System.nanoTime();
            Thread closer = new Thread(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                a.close();
            });
            assertEquals(1, b.read(new byte[4], Duration.ZERO));
            closer.start();
            assertEquals(java.util.BitSet.valueOf(new long[] {0b1}),
                    UnixSocket.awaitAnyReadable(List.of(b), Duration.ofSeconds(10)), "woken by the close");
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos(), "not by the timeout");
            closer.join();
        }
    }

    @Test
    void connectsToAPathAndRefusesLongFileNames(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("nobody.sock");
        NativeException e = assertThrows(NativeException.class, () -> UnixSocket.connect(missing));
        assertEquals(2, e.errno());
        // a long path is reached through its directory, but the file name itself must fit
        Path longName = Path.of("/tmp/" + "x".repeat(120));
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> UnixSocket.connect(longName));
        assertTrue(tooLong.getMessage().contains("its file name " + longName.getFileName() + " is too long"),
                tooLong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> UnixSocket.listen(longName, 1));
    }

    @Test
    void listensAndConnectsAtALongPath(@TempDir Path dir) throws Exception {
        Path sock = deepDir(dir, 250).resolve("s.sock");
        assertTrue(sock.toString().length() >= 250, sock.toString());
        Path file = Files.writeString(dir.resolve("handed-over"), "x");
        List<String> fdsBefore = PrivateNetns.openFds();
        try (NativeFd listener = UnixSocket.listen(sock, 4);
                NativeFd handedOver = new NativeFd(
                        LibC.INSTANCE.open(file.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC, 0))) {
            assertTrue(Files.readAttributes(sock, PosixFileAttributes.class).isOther(), "a socket file at " + sock);
            try (UnixSocket client = UnixSocket.connect(sock); UnixSocket server = accept(listener)) {
                client.send("hello".getBytes(StandardCharsets.UTF_8), List.of(handedOver));
                UnixSocket.Received got = server.receive(64, 4, Duration.ofSeconds(5));
                assertEquals("hello", new String(got.data(), StandardCharsets.UTF_8));
                assertEquals(1, got.fds().size());
                try (NativeFd received = got.fds().get(0)) {
                    assertEquals(file.toRealPath(), Path.of("/proc/self/fd/" + received.fd()).toRealPath());
                }
                server.write(new byte[] {42});
                byte[] buf = new byte[4];
                assertEquals(1, client.read(buf, Duration.ofSeconds(5)));
                assertEquals(42, buf[0]);
            }
            try (UnixSocket bounded = UnixSocket.connect(sock, Duration.ofSeconds(5));
                    UnixSocket server = accept(listener)) {
                bounded.write(new byte[] {7});
                assertEquals(1, server.read(new byte[4], Duration.ofSeconds(5)));
            }
        }
        assertTrue(Files.exists(sock), "closing the listener leaves the file (the caller removes it)");
        assertEquals(fdsBefore.size(), PrivateNetns.openFds().size(), "the directories opened on the way are closed");
    }

    @Test
    void boundedConnectGivesUpOnAFullBacklog(@TempDir Path dir) throws Exception {
        Path sock = deepDir(dir, 200).resolve("stuck.sock");
        List<UnixSocket> queued = new ArrayList<>();
        try (NativeFd listener = UnixSocket.listen(sock, 0)) {
            NativeException full = null;
            long millis = 0;
            // nobody accepts: the kernel queues backlog + 1 connections, then connect would block
            while (full == null && queued.size() < 8) {
                long t0 = System.nanoTime();
                try {
                    queued.add(UnixSocket.connect(sock, Duration.ofMillis(300)));
                } catch (NativeException e) {
                    full = e;
                }
                millis = (System.nanoTime() - t0) / 1_000_000;
            }
            System.out.println("boundedConnectGivesUpOnAFullBacklog: " + queued.size()
                    + " connection(s) queued, the next gave up after " + millis + " ms");
            assertTrue(full != null, "connect kept succeeding without an accept: " + queued.size());
            assertFalse(queued.isEmpty(), "the backlog takes at least one connection");
            assertEquals(11, full.errno(), full.getMessage());
            assertTrue(full.getMessage().contains(sock.toString()) && full.getMessage().contains("300 ms"),
                    full.getMessage());
            assertTrue(millis >= 300 && millis < 1_300, "gave up after " + millis + " ms");
            String flags = Files.readAllLines(Path.of("/proc/self/fdinfo/" + queued.get(0).fd().fd())).stream()
                    .filter(l -> l.startsWith("flags:")).findFirst().orElseThrow();
            assertEquals(0, Integer.parseInt(flags.substring(6).trim(), 8) & LibC.O_NONBLOCK,
                    "a connected socket is blocking again: " + flags);
        } finally {
            queued.forEach(UnixSocket::close);
        }
    }

    @Test
    void failuresNameThePath(@TempDir Path dir) throws Exception {
        Path deep = deepDir(dir, 200);
        // created before counting: the JDK's first file write opens a descriptor it keeps
        Path taken = Files.writeString(deep.resolve("taken.sock"), "not a socket");
        List<String> fdsBefore = PrivateNetns.openFds();
        for (Path missing : List.of(dir.resolve("nobody.sock"), deep.resolve("nobody.sock"),
                deep.resolve("no-such-dir").resolve("nobody.sock"))) {
            NativeException e = assertThrows(NativeException.class, () -> UnixSocket.connect(missing));
            assertEquals(2, e.errno(), e.getMessage());
            assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
            e = assertThrows(NativeException.class, () -> UnixSocket.connect(missing, Duration.ofSeconds(1)));
            assertEquals(2, e.errno(), e.getMessage());
            assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        }
        NativeException e = assertThrows(NativeException.class, () -> UnixSocket.listen(taken, 1));
        assertEquals(98, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains(taken.toString()), e.getMessage());
        Path sock = deep.resolve("twice.sock");
        try (NativeFd first = UnixSocket.listen(sock, 1)) {
            assertEquals(98, assertThrows(NativeException.class, () -> UnixSocket.listen(sock, 1)).errno());
        }
        assertEquals(fdsBefore.size(), PrivateNetns.openFds().size(), "no descriptor is left open by a failure");
        assertEquals("not a socket", Files.readString(taken), "nothing is removed");
    }

    @Test
    void qemuServesQmpOnAListeningSocketItInherits(@TempDir Path dir) throws Exception {
        Path qemu = PrivateNetns.qemu("qemuServesQmpOnAListeningSocketItInherits");
        Path runtime = deepDir(dir, 200);
        Path sock = runtime.resolve("qmp.sock");
        Path pidFile = runtime.resolve("qemu.pid");
        long pid = -1;
        try {
            try (NativeFd listener = UnixSocket.listen(sock, 1)) {
                SpawnResult r = new PosixSpawner().run(SpawnRequest.of(List.of(qemu.toString(),
                        "-machine", "none", "-nodefaults", "-display", "none",
                        "-chardev", "socket,id=q,fd=3,server=on,wait=off", "-mon", "chardev=q,mode=control",
                        "-daemonize", "-pidfile", pidFile.toString()))
                        .withFds(List.of(new FdMapping(listener, 3))), Duration.ofSeconds(30));
                assertTrue(r.succeeded(), "QEMU failed: " + r.failReason() + ": " + r.output());
                pid = Long.parseLong(Files.readString(pidFile).trim());
            }
            // our copy is closed: whoever answers at the long path is QEMU
            try (UnixSocket qmp = UnixSocket.connect(sock, Duration.ofSeconds(5))) {
                String greeting = readLine(qmp);
                assertTrue(greeting.startsWith("{\"QMP\""), greeting);
                // no newline after a command: QMP reads up to the closing brace and no further
                // while the command runs, so QEMU would quit with the newline unread, and a close
                // with unread input reaches this end as ECONNRESET instead of the end of stream
                qmp.write("{\"execute\":\"qmp_capabilities\"}".getBytes(StandardCharsets.UTF_8));
                assertEquals("{\"return\": {}}", readLine(qmp));
                qmp.write("{\"execute\":\"quit\"}".getBytes(StandardCharsets.UTF_8));
                byte[] buf = new byte[4096];
                while (qmp.read(buf, Duration.ofSeconds(10)) != -1) {
                    // the reply and the SHUTDOWN event, then QEMU closes the connection
                }
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (PrivateNetns.running(pid) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertFalse(PrivateNetns.running(pid), "QEMU " + pid + " quit");
        } finally {
            if (pid > 0 && PrivateNetns.running(pid)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    /** Nested directories below {@code base} whose path is at least {@code bytes} long. */
    private static Path deepDir(Path base, int bytes) throws IOException {
        Path dir = base;
        while (dir.toString().length() < bytes) {
            dir = dir.resolve("runtime-" + "d".repeat(50));
        }
        return Files.createDirectories(dir);
    }

    private static String readLine(UnixSocket s) throws NativeException {
        StringBuilder line = new StringBuilder();
        byte[] one = new byte[1];
        while (!line.toString().endsWith("\n")) {
            if (s.read(one, Duration.ofSeconds(10)) == -1) {
                throw new AssertionError("connection closed after " + line);
            }
            line.append((char) one[0]);
        }
        return line.toString().strip();
    }

    /**
     * accept(2) on {@code listener}. Production code has no accept: the sockets it listens on
     * are served by QEMU. So the test accepts through its own binding and wraps the connection
     * with the private constructor, to use the very send/receive code under test on both ends.
     */
    private static UnixSocket accept(NativeFd listener) throws Exception {
        int fd = Accept.C.accept4(listener.fd(), null, null, LibC.SOCK_CLOEXEC);
        if (fd == -1) {
            throw LibC.error("accept4", Native.getLastError());
        }
        Constructor<UnixSocket> wrap = UnixSocket.class.getDeclaredConstructor(NativeFd.class);
        wrap.setAccessible(true);
        return wrap.newInstance(new NativeFd(fd));
    }

    private interface Accept extends Library {
        Accept C = Native.load("c", Accept.class);

        int accept4(int fd, Pointer addr, Pointer addrlen, int flags);
    }
}
