package org.hvkit.kvm.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.kvm.internal.argv.GuestImage;
import org.hvkit.netdev.internal.FlockFileLocks;
import org.hvkit.netdev.internal.PosixSpawner;
import org.hvkit.netdev.internal.RtNetlink;
import org.hvkit.netdev.internal.TunTapDevices;

/** A KVM node for tests: real QEMU, netdev, a runtime dir under a temp dir; only as root in a private netns. */
final class KvmTestNode {

    static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");

    static void requireRealQemu() {
        String netns = System.getenv("HVKIT_NETNS");
        NativeTests.require("real-QEMU lifecycle test", !Files.isExecutable(QEMU) ? QEMU + " is not installed"
                : !"private".equals(netns) ? "not root in a private network namespace (" + netns + ")" : null);
    }

    static KvmHypervisor node(Path root, Path kvm, boolean script, Path ifup) {
        return node("node-a", root, kvm, script, ifup);
    }

    static KvmHypervisor node(String name, Path root, Path kvm, boolean script, Path ifup) {
        return node(settings(name, root, kvm, script, ifup));
    }

    static KvmSettings settings(String name, Path root, Path kvm, boolean script, Path ifup) {
        return new KvmSettings(name, root, kvm, script, ifup, Duration.ofSeconds(5), Path.of("/usr/bin/socat"),
                Duration.ofSeconds(20), Duration.ofSeconds(60), KvmSettings.hvparamDefaults(java.util.Map.of()));
    }

    static NativeServices natives() {
        return new NativeServices(new PosixSpawner(), new TunTapDevices(), new RtNetlink(), new FlockFileLocks());
    }

    static KvmHypervisor node(KvmSettings settings) {
        try {
            return new KvmHypervisor(settings, natives(), null);
        } catch (org.hvkit.hypervisor.HypervisorException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The test guest with a bridged NIC on {@code bridge}, pinging the host at .1. */
    static Instance.Builder guest(String name, String bridge, String ip) throws Exception {
        Path g = GuestImage.ensure();
        Instance.Builder b = Instance.builder(name).primaryNode("node-a").memory(128).vcpus(1)
                .hvparam("kernel_path", g.resolve("vmlinuz").toString())
                .hvparam("initrd_path", g.resolve("initramfs.gz").toString())
                .hvparam("root_path", "/dev/ram0")
                .hvparam("kernel_args", "panic=-1" + (ip == null ? "" : " guest.ip=" + ip + "/24 guest.ping="
                        + ip.substring(0, ip.lastIndexOf('.')) + ".1"))
                .hvparam("kvm_flag", "disabled");
        if (bridge != null) {
            b.nic(new Nic("aa:00:00:00:10:" + String.format("%02x", Math.abs(name.hashCode()) % 250), null,
                    NicMode.BRIDGED, bridge));
        }
        return b;
    }

    static String serialLog(Path root, String name) {
        try {
            return Files.readString(root.resolve("ctrl").resolve(name + ".serial.log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    static void awaitLog(Path root, String name, String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!serialLog(root, name).contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("'" + text + "' not in the serial log of " + name + " within " + timeout
                        + ":\n" + serialLog(root, name));
            }
            Thread.sleep(50);
        }
    }

    static int count(String haystack, String needle) {
        return haystack.split(java.util.regex.Pattern.quote(needle), -1).length - 1;
    }

    /** A bridge in the test's namespace, up, with {@code cidr} as the host's address (or none). */
    static void bridge(String name, String cidr) throws Exception {
        ip("link", "add", name, "type", "bridge");
        if (cidr != null) {
            ip("addr", "add", cidr, "dev", name);
        }
        ip("link", "set", name, "up");
    }

    static void ip(String... args) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of("ip"));
        argv.addAll(List.of(args));
        run(argv.toArray(new String[0]));
    }

    static void mount(String... args) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of("mount"));
        argv.addAll(List.of(args));
        run(argv.toArray(new String[0]));
    }

    /** Runs a program (never a shell string) and fails with its output unless it exits 0. */
    static void run(String... args) throws Exception {
        List<String> argv = List.of(args);
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException(argv + ": " + out);
        }
    }
}
