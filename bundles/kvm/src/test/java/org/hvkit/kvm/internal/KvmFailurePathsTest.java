package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.netdev.internal.FlockFileLocks;
import org.hvkit.uidpool.ReservedUid;
import org.hvkit.uidpool.UidPool;
import org.hvkit.uidpool.UidRanges;
import org.hvkit.uidpool.internal.FlockUidPool;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every failed start leaves nothing behind: no tap, no descriptor, no uid lock, no runtime
 * file, no QEMU process; and the NIC script gets exactly Ganeti's environment.
 */
class KvmFailurePathsTest {

    @TempDir
    Path tmp;
    Path root;
    UidPool pool;

    @BeforeEach
    void setUp() throws Exception {
        KvmTestNode.requireRealQemu();
        root = tmp.resolve("kvm");
        pool = FlockUidPool.create(UidRanges.parse("65534"), tmp.resolve("uid-pool"), new FlockFileLocks());
        KvmTestNode.bridge("brf", null);
    }

    @org.junit.jupiter.api.AfterEach
    void tearDown() throws Exception {
        if (root != null) {
            KvmTestNode.ip("link", "del", "brf");
        }
    }

    private Instance guest(String name) throws Exception {
        return KvmTestNode.guest(name, "brf", null).hvparam("security_model", "pool").build();
    }

    private Path script(String name, String body) throws Exception {
        Path p = tmp.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    /** What must hold after any failed start. */
    private void assertNothingLeft(KvmHypervisor kvm, int fdsBefore) throws Exception {
        assertEquals(List.of(), kvm.listInstances());
        assertEquals(List.of(), KvmTestNode.instanceFiles(root), "no runtime file left");
        assertEquals("[lo, brf]", links(), "no tap left");
        assertEquals(Set.of(), pool.taken(), "no uid lock left");
        assertEquals(fdsBefore, openFds(), "no descriptor left");
        try (Stream<ProcessHandle> p = ProcessHandle.allProcesses()) {
            assertTrue(p.noneMatch(h -> h.info().commandLine().orElse("").contains("-name failing")), "no QEMU left");
        }
    }

    private static String links() throws Exception {
        return new org.hvkit.netdev.internal.RtNetlink().findLink("lo").isPresent()
                ? listLinks() : "?";
    }

    private static String listLinks() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/sys/class/net"))) {
            return s.map(p -> p.getFileName().toString()).sorted((a, b) -> a.equals("lo") ? -1 : b.equals("lo") ? 1
                    : a.compareTo(b)).toList().toString();
        }
    }

    private static int openFds() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        }
    }

    private int warmFds(KvmHypervisor kvm) throws Exception {
        // load JNA, capabilities and QMP classes before counting
        kvm.previewCommand(guest("failing"));
        return openFds();
    }

    @Test
    void ifupScriptFails() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, true, script("ifup-fails", "echo no bridge for $INTERFACE; exit 1"));
        KvmTestNode.pool(kvm, pool);
        int fds = warmFds(kvm);
        HypervisorException e = assertThrows(HypervisorException.class, () -> kvm.startInstance(guest("failing"), false));
        assertTrue(e.getMessage().matches("Failed to configure interface tap\\d+: exited with exit code 1\\. Network"
                + " configuration script output: no bridge for tap\\d+"), e.getMessage());
        assertNothingLeft(kvm, fds);
    }

    @Test
    void kvmBinaryFails() throws Exception {
        Path fakeKvm = script("fake-kvm", "case \"$1\" in --help) echo 'QEMU emulator version 7.2.0'; echo '-netdev tap,"
                + "id=str'; echo '-qmp dev'; echo '-runas user';; *) echo 'qemu: unsupported option' >&2; exit 1;; esac");
        KvmHypervisor kvm = KvmTestNode.node(root, fakeKvm, false, null);
        KvmTestNode.pool(kvm, pool);
        int fds = warmFds(kvm);
        HypervisorException e = assertThrows(HypervisorException.class, () -> kvm.startInstance(guest("failing"), false));
        assertEquals("Failed to start instance failing: exited with exit code 1 (qemu: unsupported option)", e.getMessage());
        assertNothingLeft(kvm, fds);
    }

    @Test
    void realQemuRejectsAnOption() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        KvmTestNode.pool(kvm, pool);
        int fds = warmFds(kvm);
        // sd cards need a bus this machine lacks: QEMU itself refuses the -drive
        Instance bad = guest("failing").toBuilder().disk(new org.hvkit.hypervisor.Disk(
                Files.write(tmp.resolve("d.img"), new byte[1 << 20]).toString(), org.hvkit.hypervisor.DiskMode.RW, 1))
                .diskTemplate("plain").hvparam("disk_type", "sd").build();
        HypervisorException e = assertThrows(HypervisorException.class, () -> kvm.startInstance(bad, false));
        // QEMU's stderr is its -D log from the start (device layout 2): the error shows the log's end
        assertTrue(e.getMessage().startsWith("Failed to start instance failing: exited with exit code 1 ();"
                + " QEMU's log " + root.resolve("ctrl/failing.qemu.log") + " ends with:\nqemu-system-x86_64: -drive ")
                && e.getMessage().contains("machine type does not support if=sd"), e.getMessage());
        assertNothingLeft(kvm, fds);
    }

    @Test
    void poolExhausted() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, false, null);
        KvmTestNode.pool(kvm, pool);
        int fds = warmFds(kvm);
        try (ReservedUid held = pool.reserve()) {
            HypervisorException e = assertThrows(HypervisorException.class,
                    () -> kvm.startInstance(guest("failing"), false));
            assertTrue(e.getMessage().startsWith("Failed to reserve a uid: Failed to find an unused user-id"), e.getMessage());
            assertEquals(Set.of(65534L), pool.taken(), "only the holder's lock");
        }
        assertNothingLeft(kvm, fds);
    }

    @Test
    void scriptGetsGanetisEnvironment() throws Exception {
        Path record = tmp.resolve("env");
        Path ifup = script("ifup-records", "env | sort > " + record + "; echo \"argv1=$1\" >> " + record
                + "; ip link set \"$INTERFACE\" master \"$BRIDGE\" && ip link set \"$INTERFACE\" up");
        KvmHypervisor kvm = KvmTestNode.node(root, KvmTestNode.QEMU, true, ifup);
        Instance g = KvmTestNode.guest("scripted", "brf", null).tags(List.of("web", "prod"))
                .nic(new Nic("aa:00:00:00:20:02", "192.0.2.7", NicMode.ROUTED, "")).build();
        // the routed NIC's script run records the last environment: use only the bridged one here
        g = g.toBuilder().nics(List.of(g.nics().get(0))).build();
        kvm.startInstance(g, false);
        try {
            Map<String, String> env = new java.util.HashMap<>();
            for (String line : Files.readAllLines(record)) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    env.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            String tap = Files.readString(root.resolve("nic/scripted/0"));
            assertEquals("scripted", env.get("INSTANCE"));
            assertEquals(g.nics().get(0).mac(), env.get("MAC"));
            assertEquals("bridged", env.get("MODE"));
            assertEquals(tap, env.get("INTERFACE"));
            assertEquals("0", env.get("INTERFACE_INDEX"));
            assertEquals("web prod", env.get("TAGS"));
            assertEquals("brf", env.get("LINK"));
            assertEquals("brf", env.get("BRIDGE"));
            assertEquals("C", env.get("LC_ALL"));
            assertTrue(env.get("PATH").endsWith(":/sbin:/usr/sbin"), env.get("PATH"));
            assertEquals(null, env.get("IP"), "no IP variable for a NIC without an IP");
            assertEquals(tap, env.get("argv1"));
        } finally {
            kvm.stopInstanceByName("scripted");
            kvm.cleanupInstance("scripted");
        }
    }
}
