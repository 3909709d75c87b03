package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.hvkit.hypervisor.HypervisorException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** VNC and SPICE password files: Ganeti's one-liner, read as hostile input (regular, bounded). */
class PasswordFileTest {

    @TempDir
    Path tmp;

    private String error(Path file) {
        return assertThrows(HypervisorException.class, () -> KvmLauncher.readPassword("VNC", file)).getMessage();
    }

    @Test
    void oneLineThroughALinkIsThePassword() throws Exception {
        Path f = Files.writeString(tmp.resolve("pw"), "\n  s3cret  \n\n");
        assertEquals("s3cret", KvmLauncher.readPassword("VNC", f));
        assertEquals("s3cret", KvmLauncher.readPassword("VNC", Files.createSymbolicLink(tmp.resolve("ln"), f)));
    }

    @Test
    void notOneLineOrNotAFileOrTooLongIsRefused() throws Exception {
        assertEquals("No data in one-liner file " + tmp.resolve("e"), error(Files.writeString(tmp.resolve("e"), " \n")));
        assertEquals("Too many lines in one-liner file " + tmp.resolve("two"),
                error(Files.writeString(tmp.resolve("two"), "a\nb\n")));
        assertTrue(error(Path.of("/dev/zero")).contains("not a regular file"));
        assertTrue(error(tmp).contains("not a regular file"));
        Path fifo = tmp.resolve("fifo");
        new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor();
        assertTrue(error(fifo).contains("not a regular file"), "a FIFO is refused without opening it");
        Path big = Files.writeString(tmp.resolve("big"), "x".repeat(KvmLauncher.MAX_PASSWORD_FILE + 1));
        assertTrue(error(big).contains("longer than " + KvmLauncher.MAX_PASSWORD_FILE + " bytes"), error(big));
        assertTrue(error(tmp.resolve("missing")).startsWith("Failed to open VNC password file "));
    }
}
