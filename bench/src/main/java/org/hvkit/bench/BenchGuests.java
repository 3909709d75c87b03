package org.hvkit.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;

/** The instances the benchmarks run: the real test guest, and a bigger shape for the pure parts. */
public final class BenchGuests {

    private BenchGuests() {
    }

    /** A 3-NIC / 4-disk instance (plain disk files created in {@code dir}), for argv and runtime files. */
    public static Instance threeNicsFourDisks(Path dir) throws IOException {
        Instance.Builder b = Instance.builder("bench-big.example.com").primaryNode("node-a").memory(1024).vcpus(2)
                .diskTemplate("plain").networkPort(0).hypervisor("kvm");
        for (int i = 0; i < 4; i++) {
            Path disk = dir.resolve("disk" + i);
            if (!Files.exists(disk)) {
                Files.createFile(disk);
            }
            b.disk(new Disk(disk.toString(), DiskMode.RW, 1024L * (i + 1)));
        }
        b.nic(new Nic("aa:00:00:35:d2:11", null, NicMode.BRIDGED, "br0"));
        b.nic(new Nic("aa:00:00:35:d2:12", "192.0.2.10", NicMode.ROUTED, "rt100"));
        b.nic(new Nic("aa:00:00:35:d2:13", null, NicMode.BRIDGED, "br1"));
        return b.hvparam("kvm_flag", "disabled").hvparam("serial_console", true).hvparam("vnc_bind_address", "0.0.0.0")
                .build();
    }

    /**
     * Starts the paused 32 MiB instances PREFIX{from} .. PREFIX{to - 1} on {@code hv}, on the
     * executor's threads, and returns when all run (the #17 way of making many instances cheaply:
     * a paused QEMU never boots a kernel).
     */
    static void startPaused(ExecutorService ex, Hypervisor hv, String prefix, int from, int to, Path guestDir)
            throws Exception {
        List<Future<?>> fs = new ArrayList<>();
        for (int i = from; i < to; i++) {
            Instance inst = guest(prefix + i, guestDir, 32, true).build();
            fs.add(ex.submit(() -> {
                hv.startInstance(inst, true);
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get();
        }
    }

    /**
     * The real test guest (tools/guest) booting its kernel directly under TCG; with
     * {@code paused} it never leaves QEMU's -S and needs no kernel at all.
     */
    public static Instance.Builder guest(String name, Path guestDir, int memoryMiB, boolean paused) {
        Instance.Builder b = Instance.builder(name).primaryNode("node-a").hypervisor("kvm").memory(memoryMiB).vcpus(1)
                .diskTemplate("diskless").hvparam("kvm_flag", "disabled");
        if (!paused) {
            b.hvparam("kernel_path", guestDir.resolve("vmlinuz").toString())
                    .hvparam("initrd_path", guestDir.resolve("initramfs.gz").toString())
                    .hvparam("root_path", "/dev/ram0").hvparam("kernel_args", "panic=-1");
        }
        return b;
    }
}
