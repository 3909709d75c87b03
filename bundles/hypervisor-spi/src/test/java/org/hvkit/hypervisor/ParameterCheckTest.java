package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ParameterCheckTest {

    @Test
    void netPortAcceptsOneTo65535() {
        var syntax = ParameterCheck.NET_PORT_CHECK.syntax();
        assertFalse(syntax.test(0L));
        assertTrue(syntax.test(1L));
        assertTrue(syntax.test(8102));
        assertTrue(syntax.test(65535L), "hvkit fixes Ganeti's off-by-one in hv_base._NET_PORT_CHECK");
        assertFalse(syntax.test(65536L));
        assertFalse(syntax.test(-1L));
        assertFalse(syntax.test("8102"), "a string is not a port");
        assertTrue(ParameterCheck.NET_PORT_CHECK.required());
        assertEquals("invalid port number", ParameterCheck.NET_PORT_CHECK.syntaxText());
    }

    @Test
    void migrationMode() {
        var check = ParameterCheck.MIGRATION_MODE_CHECK;
        assertTrue(check.syntax().test("live"));
        assertTrue(check.syntax().test("non-live"));
        assertFalse(check.syntax().test("Live"));
        assertFalse(check.syntax().test("offline"));
        assertEquals("invalid migration mode", check.syntaxText());
        assertTrue(check.required());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "/boot/vmlinuz", "/a/b-c_d.e"})
    void absoluteNormalizedPathsPass(String path) {
        assertTrue(ParameterCheck.isAbsoluteNormalizedPath(path), path);
    }

    @ParameterizedTest
    @ValueSource(strings = {"boot/vmlinuz", "./vmlinuz", "/boot/", "/boot//vmlinuz", "/boot/./vmlinuz",
        "/boot/../vmlinuz", "", "/a/b/.."})
    void relativeOrUnnormalizedPathsFail(String path) {
        assertFalse(ParameterCheck.isAbsoluteNormalizedPath(path), path);
    }

    @Test
    void fileAndDirDescriptors(@TempDir Path tmp) throws IOException {
        Path file = Files.createFile(tmp.resolve("kernel"));
        for (ParameterCheck c : List.of(ParameterCheck.OPT_FILE_CHECK, ParameterCheck.REQ_FILE_CHECK)) {
            assertEquals("must be an absolute normalized path", c.syntaxText());
            assertEquals("not found or not a file", c.nodeText());
            assertTrue(c.node().test(file.toString()));
            assertFalse(c.node().test(tmp.toString()), "a directory is not a file");
            assertFalse(c.node().test(tmp.resolve("missing").toString()));
        }
        for (ParameterCheck c : List.of(ParameterCheck.OPT_DIR_CHECK, ParameterCheck.REQ_DIR_CHECK)) {
            assertEquals("not found or not a directory", c.nodeText());
            assertTrue(c.node().test(tmp.toString()));
            assertFalse(c.node().test(file.toString()), "a file is not a directory");
        }
        assertFalse(ParameterCheck.OPT_FILE_CHECK.required());
        assertTrue(ParameterCheck.REQ_FILE_CHECK.required());
        assertFalse(ParameterCheck.OPT_DIR_CHECK.required());
        assertTrue(ParameterCheck.REQ_DIR_CHECK.required());
    }

    @Test
    void noCheckAndRequired() {
        assertFalse(ParameterCheck.NO_CHECK.required());
        assertEquals(null, ParameterCheck.NO_CHECK.syntax());
        assertTrue(ParameterCheck.REQUIRED_CHECK.required());
        assertEquals(null, ParameterCheck.REQUIRED_CHECK.node());
    }

    @Test
    void inSetListsValuesInGivenOrder() {
        ParameterCheck c = ParameterCheck.inSet(true, List.of("disk", "cdrom", "network"));
        assertTrue(c.required());
        assertTrue(c.syntax().test("cdrom"));
        assertFalse(c.syntax().test("floppy"));
        assertFalse(c.syntax().test(""));
        assertEquals("The value must be one of: disk, cdrom, network", c.syntaxText());
        assertFalse(ParameterCheck.inSet(false, List.of("mouse", "tablet")).required());
    }
}
