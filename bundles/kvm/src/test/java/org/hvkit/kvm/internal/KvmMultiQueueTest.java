package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.KvmTestNode.awaitLog;
import static org.hvkit.kvm.internal.KvmTestNode.serialLog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.hvkit.hypervisor.Instance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code virtio_net_queues} on real QEMU 7.2 (TCG) with the real test guest: one multiqueue tap
 * with a descriptor a queue in QEMU, and the guest's virtio-net driver sees that many queue
 * pairs (the guest prints {@code /sys/class/net/eth0/queues} for {@code guest.queues=1}).
 */
class KvmMultiQueueTest {

    @TempDir
    Path tmp;
    Path root;

    /** The bridge goes with the class: later test classes in this JVM's namespace count links. */
    @AfterAll
    static void removeBridge() throws Exception {
        KvmTestNode.removeBridge("brmq");
    }

    @BeforeEach
    void setUp() throws Exception {
        KvmTestNode.requireRealQemu();
        KvmTestNode.ensureBridge("brmq", "10.97.0.1/24");
        root = tmp.resolve("kvm");
    }

    /** QEMU's descriptors of /dev/net/tun. */
    private static long tunFds(long pid) throws Exception {
        return KvmTestNode.countFds(Path.of("/proc", Long.toString(pid), "fd"), "/dev/net/tun"::equals);
    }

    @Test
    void fourQueuesReachTheGuest() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        Instance guest = KvmTestNode.guest("mq4", "brmq", "10.97.0.2").vcpus(4).hvparam("virtio_net_queues", 4L)
                .hvparam("kernel_args", "panic=-1 guest.ip=10.97.0.2/24 guest.ping=10.97.0.1 guest.queues=1").build();
        try {
            kvm.startInstance(guest, false);
            long pid = Optional.ofNullable(kvm.instanceInfo("mq4")).orElseThrow().pid();
            assertEquals(4, tunFds(pid), "one /dev/net/tun descriptor a queue in QEMU");
            String tap = Files.readString(root.resolve("nic/mq4/0")).strip();
            int flags = Integer.decode(Files.readString(Path.of("/sys/class/net", tap, "tun_flags")).strip());
            assertEquals(0x100, flags & 0x100, "IFF_MULTI_QUEUE on " + tap);
            awaitLog(root, "mq4", "GUEST-QUEUES", Duration.ofSeconds(180));
            String line = serialLog(root, "mq4").lines().filter(l -> l.startsWith("GUEST-QUEUES")).findFirst()
                    .orElseThrow().strip();
            System.out.println("virtio_net_queues 4, guest says: " + line);
            assertEquals("GUEST-QUEUES rx-0 rx-1 rx-2 rx-3 tx-0 tx-1 tx-2 tx-3", line);
            awaitLog(root, "mq4", "GUEST-PING-OK 10.97.0.1", Duration.ofSeconds(60));

            // a reboot is a new launch from the saved runtime: four queues again
            kvm.rebootInstance(guest);
            long pid2 = Optional.ofNullable(kvm.instanceInfo("mq4")).orElseThrow().pid();
            assertTrue(pid2 != pid, "a new QEMU");
            assertEquals(4, tunFds(pid2), "four queues after the reboot");
        } finally {
            kvm.stopInstanceByName("mq4");
            kvm.cleanupInstance("mq4");
            kvm.close();
        }
        try (Stream<Path> s = Files.list(Path.of("/sys/class/net"))) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(l -> l.startsWith("tap")).toList(),
                    "no tap left");
        }
    }
}
