package org.hvkit.netdev;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

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
    void connectsToAPathAndRefusesLongOnes(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("nobody.sock");
        NativeException e = assertThrows(NativeException.class, () -> UnixSocket.connect(missing));
        assertEquals(2, e.errno());
        Path longPath = Path.of("/tmp/" + "x".repeat(120));
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> UnixSocket.connect(longPath));
        assertTrue(tooLong.getMessage().contains("at most 107 bytes"), tooLong.getMessage());
        // a regular file's descriptor travels too
        Path file = Files.writeString(dir.resolve("f"), "x");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            assertTrue(raf.length() == 1);
        }
    }
}
