package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real node refuses a start whose instance definition brings its own {@code kvm_extra} or a
 * disk file outside {@code disk.file.dirs}, before anything is created (DiskFileDirsTest has the
 * rules themselves).
 */
class KvmHostFilesTest {

    @TempDir
    Path tmp;
    Path root;

    @BeforeEach
    void setUp() {
        KvmTestNode.requireRealQemu();
        root = tmp.resolve("kvm");
    }

    @Test
    void kvmExtraFromAnInstanceDefinitionIsRefusedAtStartAndInThePreview() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(KvmTestNode.settings("node-a", root, KvmTestNode.QEMU, false, null)
                .withHvparamDefaults(KvmSettings.hvparamDefaults(Map.of("hvparam.kvm_extra", "-no-hpet"))));
        Instance guest = KvmTestNode.guest("hf1", null, null).memory(64)
                .hvparam("kvm_extra", "-drive file=/dev/sda,if=none,id=host").build();
        String why = "Failed to start instance hf1: kvm_extra '-drive file=/dev/sda,if=none,id=host' is not this"
                + " node's default (hvparam.kvm_extra '-no-hpet'): raw QEMU arguments from an instance definition are"
                + " refused unless the node key kvm_extra.from.instances is true";
        try {
            assertEquals(why, assertThrows(HypervisorException.class, () -> kvm.previewCommand(guest)).getMessage());
            assertEquals(why, assertThrows(HypervisorException.class, () -> kvm.startInstance(guest, true)).getMessage());
            assertEquals(List.of(), kvm.listInstances());
            assertEquals(List.of(), KvmTestNode.instanceFiles(root), "the refused start left nothing");
            // the node's own default, repeated by the definition, is the operator's
            List<String> argv = kvm.previewCommand(KvmTestNode.guest("hf1", null, null).memory(64)
                    .hvparam("kvm_extra", "-no-hpet").build());
            assertEquals(1, java.util.Collections.frequency(argv, "-no-hpet"), argv.toString());
        } finally {
            kvm.stopInstanceByName("hf1");
            kvm.close();
        }
    }

    @Test
    void aDiskFileOutsideTheListedDirectoriesIsRefusedAtStart() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("file-storage"));
        Path outside = Files.writeString(tmp.resolve("host.img"), "not the guest's");
        KvmHypervisor kvm = KvmTestNode.node(KvmTestNode.settings("node-a", root, KvmTestNode.QEMU, false, null)
                .allowingDiskFiles(Set.of(images)));
        Instance guest = KvmTestNode.guest("hf2", null, null).memory(64)
                .disk(new Disk(outside.toString(), DiskMode.RW, 0)).build();
        try {
            HypervisorException e = assertThrows(HypervisorException.class, () -> kvm.startInstance(guest, true));
            assertEquals("Failed to start instance hf2: disks[0].dev_path " + outside + " is a regular file ("
                    + outside.toRealPath() + ") outside every directory of the node key disk.file.dirs (" + images
                    + "); list its directory there to give it to a guest", e.getMessage());
            assertEquals(List.of(), kvm.listInstances());
            assertEquals(List.of(), KvmTestNode.instanceFiles(root), "the refused start left nothing");
        } finally {
            kvm.stopInstanceByName("hf2");
            kvm.close();
        }
    }

    @Test
    void aMigrationTargetRefusesAKvmExtraOtherThanItsOwnDefault() throws Exception {
        int port = KvmTestNode.freePort();
        KvmSettings sa = KvmTestNode.migrationSettings("node-a", tmp.resolve("a"), port);
        KvmSettings sb = KvmTestNode.migrationSettings("node-b", tmp.resolve("b"), port);
        Map<String, Object> extra = new java.util.LinkedHashMap<>(sa.hvparamDefaults());
        extra.put("kvm_extra", "-no-hpet");
        KvmHypervisor a = KvmTestNode.node(sa.withHvparamDefaults(extra));   // the source's operator set it
        KvmHypervisor b = KvmTestNode.node(sb);
        Instance guest = KvmTestNode.guest("hf3", null, null).memory(64).build();
        try {
            a.startInstance(guest, true);
            var info = a.migrationInfo(guest);
            HypervisorException e = assertThrows(HypervisorException.class,
                    () -> b.acceptInstance(guest, info, "127.0.0.1"));
            assertEquals("Can't accept instance hf3: kvm_extra '-no-hpet' is not this node's default"
                    + " (hvparam.kvm_extra ''): raw QEMU arguments from an instance definition are refused unless the"
                    + " node key kvm_extra.from.instances is true", e.getMessage());
            assertEquals(List.of(), b.listInstances());
            assertEquals(List.of(), KvmTestNode.instanceFiles(tmp.resolve("b")), "nothing left on the target");
            assertEquals(List.of("hf3"), a.listInstances(), "the source keeps the guest");
        } finally {
            a.stopInstanceByName("hf3");
            a.close();
            b.close();
        }
    }
}
