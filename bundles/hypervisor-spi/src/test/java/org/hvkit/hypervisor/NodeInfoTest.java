package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeInfoTest {

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(NodeInfoTest.class.getResource("/proc/" + name).toURI());
    }

    @Test
    void memAvailableKernel() throws Exception {
        NodeInfo n = NodeInfo.ofLinux(fixture("meminfo"), fixture("cpuinfo"));
        assertEquals(31506, n.memoryTotal());
        assertEquals(21098, n.memoryFree());
        assertEquals(31506 - 21098, n.memoryDom0());
        assertEquals(4, n.cpuTotal());
        assertEquals(1, n.cpuNodes());
        assertEquals(1, n.cpuSockets());
    }

    @Test
    void oldKernelSumsFreeBuffersCachedEachFloored() throws Exception {
        NodeInfo n = NodeInfo.ofLinux(fixture("meminfo-2011"), fixture("cpuinfo"));
        assertEquals(3951, n.memoryTotal());
        assertEquals(1024 + 200 + 1499, n.memoryFree(), "1048576/1024 + 205000/1024 + 1535000/1024, each floored");
    }

    @Test
    void errorsUseGanetiTexts(@TempDir Path tmp) throws Exception {
        HypervisorException e = assertThrows(HypervisorException.class,
                () -> NodeInfo.ofLinux(tmp.resolve("missing"), fixture("cpuinfo")));
        assertTrue(e.getMessage().startsWith("Failed to list node info: "), e.getMessage());
        Path broken = Files.writeString(tmp.resolve("meminfo"), "MemFree: 12 kB\n");
        e = assertThrows(HypervisorException.class, () -> NodeInfo.ofLinux(broken, fixture("cpuinfo")));
        assertEquals("Failed to compute memory usage: MemTotal missing from meminfo", e.getMessage());
    }

    @Test
    void thisMachine() throws Exception {
        NodeInfo n = NodeInfo.ofLinux();
        assertEquals(Runtime.getRuntime().availableProcessors() > 0, n.cpuTotal() > 0);
        assertTrue(n.memoryTotal() >= n.memoryFree());
    }
}
