package org.hvkit.kvm.internal.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.InstanceStats;
import org.hvkit.kvm.internal.monitor.Monitors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** QMP answers and nic files as hostile input. */
class QmpFiguresTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s.replace('\'', '"'));
    }

    @Test
    void vcpuThreadsOrderedAndValidated() throws Exception {
        assertEquals(List.of(new QmpFigures.VcpuThread(0, 100), new QmpFigures.VcpuThread(1, 101)),
                QmpFigures.vcpuThreads(json("[{'cpu-index':1,'thread-id':101,'target':'x86_64'},"
                        + "{'cpu-index':0,'thread-id':100,'qom-path':'/machine/unattached/device[0]'},"
                        + "{'cpu-index':2,'thread-id':'102'},{'cpu-index':-1,'thread-id':5},{'cpu-index':3},"
                        + "{'cpu-index':4,'thread-id':0},{'cpu-index':5,'thread-id':1.5},7,null]")));
        assertEquals(List.of(), QmpFigures.vcpuThreads(json("{'cpu-index':0,'thread-id':100}")), "not an array");
        assertEquals(List.of(), QmpFigures.vcpuThreads(null));
    }

    @Test
    void vcpuListIsBounded() throws Exception {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < 5000; i++) {
            s.append(i == 0 ? "" : ",").append("{\"cpu-index\":").append(i).append(",\"thread-id\":").append(i + 1)
                    .append('}');
        }
        assertEquals(QmpFigures.MAX_ENTRIES, QmpFigures.vcpuThreads(JSON.readTree(s + "]")).size());
    }

    @Test
    void blockstatsByDeviceElseQdevElseNodeNameWithoutEmptySlots() throws Exception {
        List<InstanceStats.DiskStats> d = QmpFigures.disks(json("["
                + "{'device':'virtio0','node-name':'#block123','stats':{'rd_bytes':4096,'wr_bytes':512,"
                + "'rd_operations':8,'wr_operations':1,'flush_operations':1}},"
                + "{'device':'','qdev':'/machine/peripheral-anon/device[1]/virtio-backend','node-name':'#b2',"
                + "'stats':{'rd_bytes':1}},"
                + "{'device':'','node-name':'disk1','stats':{'rd_bytes':-5,'wr_bytes':'7','rd_operations':1e30}},"
                + "{'device':'ide1-cd0','qdev':'/machine/unattached/device[22]','stats':{'rd_bytes':0}},"
                + "{'device':'nostats','node-name':'n'},{'stats':{'rd_bytes':1}},"
                + "{'device':'bad\\u0001name','node-name':'n','stats':{}}]"));
        assertEquals(List.of(new InstanceStats.DiskStats("virtio0", 4096, 512, 8, 1),
                new InstanceStats.DiskStats("/machine/peripheral-anon/device[1]/virtio-backend", 1, -1, -1, -1),
                new InstanceStats.DiskStats("disk1", -1, -1, -1, -1),
                new InstanceStats.DiskStats("n", -1, -1, -1, -1)), d, "a device id with a control character: the node name");
        assertEquals(List.of(), QmpFigures.disks(json("'nonsense'")));
    }

    @Test
    void balloon() throws Exception {
        assertEquals(134217728L, QmpFigures.balloonBytes(json("{'actual':134217728}")));
        assertEquals(InstanceStats.UNKNOWN, QmpFigures.balloonBytes(json("{}")), "absent is unknown, not 0");
        assertEquals(InstanceStats.UNKNOWN, QmpFigures.balloonBytes(json("{'actual':-1}")));
        assertEquals(InstanceStats.UNKNOWN, QmpFigures.balloonBytes(null));
    }

    @Test
    void runStates() {
        ProcFigures.Stat sleeping = new ProcFigures.Stat('S', 1, 1);
        assertEquals(InstanceState.RUNNING, InstanceStatsCollector.state(sleeping, "running"));
        assertEquals(InstanceState.RUNNING, InstanceStatsCollector.state(sleeping, Monitors.BUSY));
        assertEquals(InstanceState.PAUSED, InstanceStatsCollector.state(sleeping, "paused"));
        assertEquals(InstanceState.SHUTDOWN, InstanceStatsCollector.state(sleeping, "shutdown"));
        assertEquals(InstanceState.UNRESPONSIVE, InstanceStatsCollector.state(sleeping, null));
        assertEquals(InstanceState.UNRESPONSIVE, InstanceStatsCollector.state(new ProcFigures.Stat('T', 1, 1), "running"));
    }

    @Test
    void nicFilesAreReadByIndexAndHostileOnesSkipped() throws Exception {
        Path dir = tmp.resolve("nic/web1");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("0"), "tap0\n");
        Files.writeString(dir.resolve("2"), "tap2");
        Files.writeString(dir.resolve("1"), "not a tap name; rm -rf /");
        Files.writeString(dir.resolve("x"), "tapx");
        Files.createSymbolicLink(dir.resolve("3"), dir.resolve("0"));
        Files.createFile(tmp.resolve("big"));
        Files.writeString(tmp.resolve("big"), "t".repeat(100));
        Files.copy(tmp.resolve("big"), dir.resolve("4"));
        assertEquals(Map.of(0, "tap0", 2, "tap2"), InstanceStatsCollector.readTaps(dir));
        assertTrue(InstanceStatsCollector.readTaps(tmp.resolve("nic/none")).isEmpty());
    }
}
