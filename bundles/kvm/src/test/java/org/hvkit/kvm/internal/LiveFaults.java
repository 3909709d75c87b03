package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.FaultBench.error;
import static org.hvkit.kvm.internal.FaultBench.expectError;
import static org.hvkit.kvm.internal.FaultCase.of;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;

/**
 * Live operations on running guests (issue #15): NIC hotplug and the memory balloon refused for
 * bad requests — a stopped instance, a duplicate MAC, a bridge that does not exist, an unknown
 * device, a target outside the memory, a QEMU that lacks the commands — each with its exact error,
 * and nothing changed: the saved runtime byte for byte, no tap, no device in QEMU, no balloon
 * target sent. A hot-add that fails after the device is plugged takes everything back.
 */
final class LiveFaults {

    private static final String BRIDGE = "brlive";
    private static final String MAC = "aa:00:00:00:7a:01";

    private LiveFaults() {
    }

    static List<FaultCase> all() {
        return List.of(
            of("L1", "live", "NIC and disk hotplug and balloon on an instance that is not running: refused, nothing written", b -> {
                String name = b.name();
                Instance never = b.guest(name).build();
                Nic nic = new Nic(MAC, null, NicMode.BRIDGED, "br0");
                expectError("Cannot hot-add a NIC on instance " + name + ": not running",
                        () -> b.node.hotAddNic(never, nic));
                expectError("Cannot modify a NIC on instance " + name + ": not running",
                        () -> b.node.hotModifyNic(never, nic));
                expectError("Cannot hot-remove a NIC on instance " + name + ": not running",
                        () -> b.node.hotRemoveNic(never, MAC));
                expectError("Cannot balloon the memory of instance " + name + ": not running",
                        () -> b.node.balloonInstanceMemory(never, 64));
                expectError("Cannot hotplug on instance " + name + ": not running",
                        () -> b.node.checkHotplugSupport(never));
                expectError("Cannot hot-add a disk on instance " + name + ": not running",
                        () -> b.node.hotAddDisk(never, new Disk("/srv/disks/" + name + ".img", DiskMode.RW, 0)));
                expectError("Cannot hot-remove a disk on instance " + name + ": not running",
                        () -> b.node.hotRemoveDisk(never, "/srv/disks/" + name + ".img"));
                assertFalse(b.node.knownInstances().contains(name), "no runtime, no files for a refused request");
            }),
            of("L2", "live", "hot-add: a duplicate MAC, a missing bridge, no link, a routed NIC without IP", b -> {
                KvmTestNode.bridge(BRIDGE, null);
                b.defer(() -> KvmTestNode.removeBridge(BRIDGE));
                String name = b.name();
                Instance.Builder g = b.guest(name);
                g.nic(new Nic(MAC, null, NicMode.BRIDGED, BRIDGE));
                b.node.startInstance(g.build(), true);
                Instance running = running(b, name);
                String saved = runtimeText(b, name);
                String fail = "Cannot hot-add NIC %s to instance " + name + ": ";
                expectError(String.format(fail, MAC) + "the instance has a NIC with this MAC already",
                        () -> b.node.hotAddNic(running, new Nic(MAC, null, NicMode.BRIDGED, BRIDGE)));
                String other = "aa:00:00:00:7a:02";
                expectError(String.format(fail, other) + "bridge br-none does not exist on node node-a",
                        () -> b.node.hotAddNic(running, new Nic(other, null, NicMode.BRIDGED, "br-none")));
                expectError(String.format(fail, other) + "a bridged NIC needs a link (the bridge)",
                        () -> b.node.hotAddNic(running, new Nic(other, null, NicMode.BRIDGED, "")));
                expectError(String.format(fail, other) + "a routed NIC needs an IP address",
                        () -> b.node.hotAddNic(running, new Nic(other, null, NicMode.ROUTED, "main")));
                unchanged(b, name, saved);
            }),
            of("L3", "live", "hot-remove and modify of a device the instance does not have", b -> {
                String name = b.name();
                b.node.startInstance(b.guest(name).build(), true);
                Instance running = running(b, name);
                String saved = runtimeText(b, name);
                String msg = error(() -> b.node.hotRemoveNic(running, MAC));
                assertTrue(msg.startsWith("Cannot hot-remove NIC " + MAC + " from instance " + name + ": the instance"
                        + " has no NIC with this MAC; its NICs: "), msg);
                expectError("Cannot hot-remove a NIC from instance " + name + ": 'eth0; rm -rf /' is not a MAC address"
                        + " (six colon-separated hexadecimal bytes)", () -> b.node.hotRemoveNic(running, "eth0; rm -rf /"));
                msg = error(() -> b.node.hotModifyNic(running, new Nic(MAC, null, NicMode.BRIDGED, "br0")));
                assertTrue(msg.startsWith("Cannot modify NIC " + MAC + " of instance " + name + ": "), msg);
                assertTrue(msg.contains("no NIC with this MAC"), msg);
                unchanged(b, name, saved);
            }),
            of("L4", "live", "balloon above the memory and below 32 MiB: refused, no target sent", b -> {
                String name = b.name();
                b.node.startInstance(b.guest(name).memory(96).build(), true);
                Instance running = running(b, name);
                long before = KvmTestNode.qmp(b.node, name, "query-balloon").path("actual").asLong();
                assertEquals(96L << 20, before);
                expectError("Cannot balloon the memory of instance " + name + " to 97 MiB: above its memory of 96 MiB"
                        + " (-m; the balloon can only give memory back); allowed: 32..96 MiB",
                        () -> b.node.balloonInstanceMemory(running, 97));
                expectError("Cannot balloon the memory of instance " + name + " to 31 MiB: below 32 MiB, the least"
                        + " hvkit leaves a guest; allowed: 32..96 MiB", () -> b.node.balloonInstanceMemory(running, 31));
                expectError("Cannot balloon the memory of instance " + name + " to -1 MiB: below 32 MiB, the least"
                        + " hvkit leaves a guest; allowed: 32..96 MiB", () -> b.node.balloonInstanceMemory(running, -1));
                assertEquals(before, KvmTestNode.qmp(b.node, name, "query-balloon").path("actual").asLong());
            }),
            of("L5", "live", "a QEMU whose commands lack getfd and add-fd (as an older QEMU): NIC and disk hotplug refused, saying why", b -> {
                // the node's capability facts as QEMU's query-commands gave them, minus getfd
                Path root = b.tmp.resolve("node-l5");
                b.defer(() -> FileFaults.deleteTree(root));
                KvmHypervisor probe = b.node(KvmTestNode.settings("node-l5", root, KvmTestNode.QEMU, false, null));
                String first = b.name();
                try {
                    probe.startInstance(KvmTestNode.guest(first, null, null).memory(64).build(), true);
                } finally {
                    probe.stopInstanceByName(first);
                    if (probe.knownInstances().contains(first)) {
                        probe.cleanupInstance(first);
                    }
                    probe.close();
                }
                Path caps;
                try (var s = Files.list(root.resolve("caps"))) {
                    caps = s.filter(p -> p.toString().endsWith(".json")).findFirst().orElseThrow();
                }
                ObjectMapper json = new ObjectMapper();
                ObjectNode tree = (ObjectNode) json.readTree(caps.toFile());
                ArrayNode commands = (ArrayNode) tree.path("qmp").path("commands");
                boolean removed = false;
                for (int i = commands.size() - 1; i >= 0; i--) {
                    if (commands.get(i).asText().equals("getfd") || commands.get(i).asText().equals("add-fd")) {
                        commands.remove(i);
                        removed = true;
                    }
                }
                assertTrue(removed, "the probed facts had getfd: " + commands);
                Files.writeString(caps, json.writeValueAsString(tree));
                KvmHypervisor old = b.node(KvmTestNode.settings("node-l5", root, KvmTestNode.QEMU, false, null));
                b.defer(old::close);
                String name = b.name();
                b.defer(() -> old.stopInstanceByName(name));
                old.startInstance(KvmTestNode.guest(name, null, null).memory(64).build(), true);
                Instance running = Objects.requireNonNull(old.runningInstance(name));
                String msg = error(() -> old.checkHotplugSupport(running));
                assertTrue(msg.startsWith("Cannot hotplug on instance " + name + ": this QEMU ")
                        && msg.endsWith("lacks a QMP command hotplug needs (getfd, netdev_add, device_add, device_del,"
                        + " netdev_del, query-pci)"), msg);
                msg = error(() -> old.hotAddNic(running, new Nic(MAC, "10.9.9.9", NicMode.ROUTED, "main")));
                assertTrue(msg.startsWith("Cannot hot-add a NIC on instance " + name + ": this QEMU "), msg);
                msg = error(() -> old.hotAddDisk(running, new Disk("/srv/disks/" + name + ".img", DiskMode.RW, 0)));
                assertTrue(msg.startsWith("Cannot hot-add a disk on instance " + name + ": this QEMU ")
                        && msg.endsWith("lacks a QMP command hotplug needs (add-fd, remove-fd, blockdev-add,"
                        + " blockdev-del, device_add, device_del, query-pci, qom-get, query-block)"), msg);
                old.stopInstanceByName(name);
                old.cleanupInstance(name);
            }),
            of("L6", "live", "a hot-add that fails after the device is plugged: device, tap, nic file all taken back",
                    b -> {
                String name = b.name();
                b.node.startInstance(b.guest(name).hvparam("kernel_args", "panic=-1 guest.hotplug=1").build(), false);
                b.awaitLog(name, "GUEST-HOTPLUG", Duration.ofSeconds(90));
                Instance running = running(b, name);
                String saved = runtimeText(b, name);
                // the tap is opened, handed over and plugged; routing it into table 'not-a-table' fails
                String msg = error(() -> b.node.hotAddNic(running,
                        new Nic("aa:00:00:00:7a:03", "10.79.0.60", NicMode.ROUTED, "not-a-table")));
                assertTrue(msg.startsWith("Cannot hot-add NIC aa:00:00:00:7a:03 to instance " + name + ": ")
                        && msg.contains("Failed to configure interface"), msg);
                assertFalse(Files.exists(KvmTestNode.core(b.node).paths().nicDir(name).resolve("0")), "no nic file");
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (KvmTestNode.qmp(b.node, name, "query-pci").toString().contains("hotnic")
                        && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertFalse(KvmTestNode.qmp(b.node, name, "query-pci").toString().contains("hotnic"),
                        "the guest released the device the rollback unplugged");
                unchanged(b, name, saved);
            }),
            of("L7", "live", "hot-add of a host system file, a link to one, and the host's mounted disk: refused", b -> {
                String name = b.name();
                b.node.startInstance(b.guest(name).build(), true);
                Instance running = running(b, name);
                String saved = runtimeText(b, name);
                String fail = "Cannot hot-add disk %s to instance " + name + ": dev_path %s ";
                String tail = "; a guest must not get what the host uses";
                expectError(String.format(fail, "/etc/shadow", "/etc/shadow") + "is a host system file (/etc/shadow,"
                        + " under /etc)" + tail, () -> b.node.hotAddDisk(running, new Disk("/etc/shadow", DiskMode.RW, 0)));
                Path link = Files.createSymbolicLink(b.tmp.resolve("data.img"), Path.of("/etc/passwd"));
                b.defer(() -> Files.deleteIfExists(link));
                expectError(String.format(fail, link, link) + "is a host system file (/etc/passwd, under /etc)" + tail,
                        () -> b.node.hotAddDisk(running, new Disk(link.toString(), DiskMode.RW, 0)));
                String[] mounted = KvmTestNode.mountedBlockDevice();
                expectError(String.format(fail, mounted[0], mounted[0]) + "(" + Path.of(mounted[0]).toRealPath()
                        + ", device " + mounted[1] + ") is mounted at " + mounted[2] + tail,
                        () -> b.node.hotAddDisk(running, new Disk(mounted[0], DiskMode.RW, 0)));
                assertEquals(saved, runtimeText(b, name), "the saved runtime is as it was");
            }));
    }

    private static Instance running(FaultBench b, String name) throws Exception {
        return Objects.requireNonNull(b.node.runningInstance(name), name + " runs");
    }

    private static String runtimeText(FaultBench b, String name) throws Exception {
        return KvmTestNode.core(b.node).store().load(name).orElseThrow().text();
    }

    /** The saved runtime byte for byte, and no hot-plugged device in QEMU. */
    private static void unchanged(FaultBench b, String name, String saved) throws Exception {
        assertEquals(saved, runtimeText(b, name), "the saved runtime is as it was");
        String pci = KvmTestNode.qmp(b.node, name, "query-pci").toString();
        assertFalse(pci.contains("hotnic"), pci);
    }
}
