package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

class InstanceConsoleTest {

    @Test
    void ssh() {
        InstanceConsole c = InstanceConsole.ssh("i1", "node1", "root", List.of("/usr/bin/socat", "STDIO", "UNIX-CONNECT:/x"));
        assertEquals(ConsoleKind.SSH, c.kind());
        assertEquals("ssh -t root@node1 /usr/bin/socat STDIO UNIX-CONNECT:/x", c.describe());
        assertThrows(IllegalArgumentException.class, () -> InstanceConsole.ssh("i1", "node1", "root", List.of()));
        assertThrows(IllegalArgumentException.class, () -> InstanceConsole.ssh("i1", "node1", "", List.of("x")));
        assertThrows(IllegalArgumentException.class, () -> InstanceConsole.ssh("i1", null, "root", List.of("x")));
    }

    @Test
    void vnc() {
        InstanceConsole c = InstanceConsole.vnc("i1", "192.0.2.1", 5910);
        assertEquals(10, c.display());
        assertEquals("Instance i1 has VNC listening on 192.0.2.1:5910 (display 10), URL <vnc://192.0.2.1:5910/>",
                c.describe());
        assertThrows(IllegalArgumentException.class, () -> InstanceConsole.vnc("i1", "192.0.2.1", 0));
        assertThrows(IllegalArgumentException.class, () -> InstanceConsole.vnc("i1", "", 5910));
    }

    @Test
    void message() {
        assertEquals("No serial shell for instance i1",
                InstanceConsole.message("i1", "No serial shell for instance i1").describe());
        assertThrows(IllegalArgumentException.class, () -> InstanceConsole.message("i1", ""));
        assertThrows(IllegalArgumentException.class, () -> InstanceConsole.message("", "x"));
    }
}
