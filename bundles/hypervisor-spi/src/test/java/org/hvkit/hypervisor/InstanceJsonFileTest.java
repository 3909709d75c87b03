package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InstanceJsonFileTest {

    @TempDir
    Path tmp;

    private static final Duration NEVER_BLOCKS = Duration.ofSeconds(10);

    private static String refused(Path file) {
        HypervisorException e = assertTimeoutPreemptively(NEVER_BLOCKS, () -> assertThrows(HypervisorException.class,
                () -> InstanceJson.readFile(file, w -> { }, true)));
        return e.getMessage();
    }

    @Test
    void readsARegularFile() throws Exception {
        Path f = Files.writeString(tmp.resolve("i.json"), "{\"name\": \"web1\", \"os\": \"x\"}");
        List<String> warnings = new ArrayList<>();
        assertEquals("web1", InstanceJson.readFile(f, warnings::add, true).name());
        assertEquals(List.of("Ignoring unknown instance field 'os'"), warnings);
        ParameterException e = assertThrows(ParameterException.class, () -> InstanceJson.readFile(f, w -> { }, false));
        assertEquals("Invalid instance definition: os: unknown field", e.getMessage());
    }

    @Test
    void followsSymbolicLinksToRegularFiles() throws Exception {
        Path f = Files.writeString(tmp.resolve("i.json"), "{\"name\": \"web1\"}");
        Path link = Files.createSymbolicLink(tmp.resolve("link.json"), f);
        assertEquals("web1", InstanceJson.readFile(link, w -> { }, false).name());
    }

    @Test
    void refusesDevicesWithoutReadingThem() throws Exception {
        for (String dev : List.of("/dev/zero", "/dev/urandom", "/dev/null")) {
            assertTrue(Files.exists(Path.of(dev)), dev + " exists on Linux");
            assertEquals("Instance file " + dev + " is not a regular file (a character device)", refused(Path.of(dev)));
        }
        Path link = Files.createSymbolicLink(tmp.resolve("zero.json"), Path.of("/dev/zero"));
        assertEquals("Instance file " + link + " is not a regular file (a character device)", refused(link),
                "the link's target is checked");
    }

    @Test
    void refusesAFifoWithoutOpeningIt() throws Exception {
        Path fifo = tmp.resolve("fifo.json");
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertTrue(p.waitFor() == 0 && Files.exists(fifo), "mkfifo works here");
        // opening a FIFO nobody writes blocks: the timeout proves the check comes first
        assertEquals("Instance file " + fifo + " is not a regular file (a FIFO)", refused(fifo));
    }

    @Test
    void refusesADirectoryAndASocket() throws Exception {
        assertEquals("Instance file " + tmp + " is not a regular file (a directory)", refused(tmp));
        Path socket = tmp.resolve("s");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            assertEquals("Instance file " + socket + " is not a regular file (a socket)", refused(socket));
        }
    }

    @Test
    void missingFile() {
        Path f = tmp.resolve("nope.json");
        assertEquals("Cannot read instance file " + f + ": no such file", refused(f));
    }

    @Test
    void sizeIsLimited() throws Exception {
        Path ok = Files.writeString(tmp.resolve("ok.json"), InstanceJsonTest.documentOf(InstanceJson.MAX_BYTES));
        assertEquals(InstanceJson.MAX_BYTES, Files.size(ok));
        assertEquals("x", InstanceJson.readFile(ok, w -> { }, false).name(), "the limit itself is allowed");
        Path big = Files.writeString(tmp.resolve("big.json"), InstanceJsonTest.documentOf(InstanceJson.MAX_BYTES + 1));
        assertEquals("Instance file " + big + " is too large: 1048577 bytes (the limit is 1048576 bytes)", refused(big));
    }

    @Test
    void sizeCountsBytesNotCharacters() throws Exception {
        // 2-byte characters: fewer than MAX_BYTES characters, more than MAX_BYTES bytes
        String doc = "{\"name\": \"x\", \"tags\": [\"" + "\u00e9".repeat(InstanceJson.MAX_BYTES / 2) + "\"]}";
        Path f = Files.writeString(tmp.resolve("wide.json"), doc);
        assertEquals("Instance file " + f + " is too large: " + Files.size(f) + " bytes (the limit is 1048576 bytes)",
                refused(f));
    }

    /** Stands for a file that grows after its size was checked: it never ends. */
    private static final class Endless extends InputStream {
        long served;

        @Override
        public int read() {
            served++;
            return ' ';
        }

        @Override
        public int read(byte[] b, int off, int len) {
            java.util.Arrays.fill(b, off, off + len, (byte) ' ');
            served += len;
            return len;
        }
    }

    @Test
    void aGrowingFileIsReadOnlyUpToTheLimit() throws Exception {
        Endless endless = new Endless();
        HypervisorException e = assertTimeoutPreemptively(NEVER_BLOCKS, () -> assertThrows(HypervisorException.class,
                () -> InstanceJson.atMostMaxBytes(endless, "/x")));
        assertEquals("Instance file /x is too large: more than 1048576 bytes (the limit; it grew while being read)",
                e.getMessage());
        assertEquals(InstanceJson.MAX_BYTES + 1, endless.served, "reads one byte past the limit, no more");
        byte[] exact = InstanceJson.atMostMaxBytes(new java.io.ByteArrayInputStream(new byte[InstanceJson.MAX_BYTES]), "/y");
        assertEquals(InstanceJson.MAX_BYTES, exact.length);
    }

    @Test
    void contentMustBeUtf8() throws IOException {
        Path f = tmp.resolve("latin1.json");
        Files.write(f, "{\"name\": \"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1));
        ParameterException e = assertInstanceOf(ParameterException.class, assertThrows(HypervisorException.class,
                () -> InstanceJson.readFile(f, w -> { }, false)));
        assertEquals("Invalid instance definition: json: the file is not UTF-8 text (invalid byte sequence at"
                + " byte offset 13)", e.getMessage());
    }

    @Test
    void byteOrderMarkIsSkipped() throws Exception {
        Path f = Files.writeString(tmp.resolve("bom.json"), "\uFEFF{\"name\": \"web1\"}");
        assertEquals("web1", InstanceJson.readFile(f, w -> { }, false).name());
    }

    @Test
    void controlCharactersInThePathAreEscaped() {
        Path f = tmp.resolve("a\nb.json");
        assertEquals("Cannot read instance file " + tmp + "/a\\u000Ab.json: no such file", refused(f));
    }
}
