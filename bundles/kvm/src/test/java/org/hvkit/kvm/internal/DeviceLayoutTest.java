package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.MigrationInfo;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;
import org.hvkit.kvm.internal.argv.DeviceLayout;
import org.hvkit.kvm.internal.argv.ExecutionContext;
import org.hvkit.kvm.internal.argv.KvmArgvBuilder;
import org.hvkit.kvm.internal.argv.KvmRuntime;
import org.hvkit.kvm.internal.caps.HelpFixtures;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.runtime.RuntimePaths;
import org.hvkit.kvm.internal.runtime.RuntimeStore;
import org.junit.jupiter.api.Test;

/**
 * The device layout a runtime was written with is the one it is rendered in: a runtime an older
 * hvkit wrote ({@code src/test/resources/runtime/}, see its README) renders exactly as that hvkit
 * ran it, on a reboot and on a migration target; a new start gets layout 2, and its slots travel
 * with the migration info instead of being chosen again by the target.
 */
class DeviceLayoutTest {

    private static final RuntimePaths PATHS = new RuntimePaths(Path.of("/run/hvkit/kvm-hypervisor"));
    private static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");
    private static final KvmArgvBuilder BUILDER = new KvmArgvBuilder(QEMU, PATHS);
    private static final QemuCapabilities CAPS = HelpFixtures.capabilities("qemu-7.2.22");

    private static Path fixture(String name) {
        return Path.of(System.getProperty("basedir", "."), "src/test/resources/runtime", name);
    }

    private static List<String> render(KvmRuntime r, String incoming) throws HypervisorException {
        ExecutionContext ctx = ExecutionContext.layout(r.nics().size(), 1, true, false, CAPS, null, incoming, false);
        return BUILDER.renderForNode(r, r.hvparams(), CAPS, ctx);
    }

    @Test
    void aRuntimeAnOlderHvkitWroteRendersAsItRanIt() throws Exception {
        RuntimeStore.Saved saved = RuntimeStore.parse(Files.readString(fixture("layout-1.runtime")), "fixture");
        assertEquals(DeviceLayout.legacy(), saved.runtime().layout(), "no layout saved: layout 1");
        // a reboot (also of an instance adopted after a bundle swap) executes the saved runtime as it is
        assertEquals(Files.readAllLines(fixture("layout-1.args")), render(saved.runtime(), null));
    }

    @Test
    void aMigrationFromAnOlderHvkitLandsInTheSourcesLayout() throws Exception {
        MigrationInfo info = new MigrationInfo(Files.readString(fixture("layout-1.runtime")));
        Instance asked = Instance.builder("old.example.com").primaryNode("node-b").build();
        KvmMigrator.Incoming in = KvmMigrator.incoming(BUILDER, asked, info, "node-b", CAPS);
        assertEquals(DeviceLayout.legacy(), in.generated().runtime().layout());
        assertEquals(Files.readAllLines(fixture("layout-1-incoming.args")), render(in.generated().runtime(),
                "127.0.0.1"));
        // and the target saves it at finalize as layout 1 still: its own reboot stays in that layout
        String finalized = RuntimeStore.serialize(in.generated().runtime(), in.instance());
        assertEquals(DeviceLayout.legacy(), RuntimeStore.parse(finalized, "finalized").runtime().layout());
    }

    private static Instance twoNics() {
        return Instance.builder("new.example.com").primaryNode("node-a")
                .disk(new Disk("/srv/disks/new0.img", DiskMode.RW, 16)).diskTemplate("sharedfile")
                .nic(new Nic("aa:00:00:35:d2:31", null, NicMode.BRIDGED, "br0"))
                .nic(new Nic("aa:00:00:35:d2:32", null, NicMode.BRIDGED, "br0")).build();
    }

    @Test
    void aNewStartSavesLayout2WithItsSlots() throws Exception {
        Instance inst = twoNics();
        Map<String, Object> hv = new LinkedHashMap<>(KvmParameters.DEFAULTS);
        KvmArgvBuilder.Generated g = BUILDER.generate(inst, hv, CAPS);
        assertEquals(new DeviceLayout(2, Map.of("disk0", 12, "nic0", 13, "nic1", 14, "balloon0", 15)),
                g.runtime().layout());
        KvmRuntime reloaded = RuntimeStore.parse(RuntimeStore.serialize(g.runtime(), inst), "saved").runtime();
        assertEquals(g.runtime(), reloaded, "what is saved is what was generated");
        List<String> argv = render(reloaded, null);
        assertTrue(argv.contains("virtio-blk-pci,id=virtio-disk0,drive=disk0,addr=0xc"), argv.toString());
        assertTrue(argv.contains("virtio-net-pci,mac=aa:00:00:35:d2:32,netdev=netdev1,id=nic1,addr=0xe"),
                argv.toString());
        assertTrue(argv.contains("virtio-balloon-pci,id=balloon0,addr=0xf"), argv.toString());
        assertEquals(PATHS.qemuLog("new.example.com").toString(), argv.get(argv.indexOf("-D") + 1));
    }

    @Test
    void kvmPciReservationsIsHonouredAndTooManyDevicesRefused() throws Exception {
        Map<String, Object> hv = new LinkedHashMap<>(KvmParameters.DEFAULTS);
        hv.put(KvmParameters.KVM_PCI_RESERVATIONS, 28L);
        assertEquals(Map.of("disk0", 28, "nic0", 29, "nic1", 30, "balloon0", 31),
                BUILDER.generate(twoNics(), hv, CAPS).runtime().layout().pciSlots(), "slots start at kvm_pci_reservations");
        hv.put(KvmParameters.KVM_PCI_RESERVATIONS, 29L);
        HypervisorException e = assertThrows(HypervisorException.class, () -> BUILDER.generate(twoNics(), hv, CAPS));
        assertTrue(e.getMessage().startsWith("No free PCI slot for balloon0: the guest's PCI bus has 32 slots,"
                + " kvm_pci_reservations keeps 29 for QEMU and 3 hold other devices"), e.getMessage());
    }

    /** The source's slots travel: a target renders them even where it would have chosen others (after a hotplug). */
    @Test
    void aMigrationKeepsTheSourcesSlots() throws Exception {
        Instance inst = twoNics();
        Map<String, Object> hv = new LinkedHashMap<>(KvmParameters.DEFAULTS);
        KvmRuntime fresh = BUILDER.generate(inst, hv, CAPS).runtime();
        // as if nic0 had been hot-removed and hot-added again at the end of the bus
        Map<String, Integer> moved = new LinkedHashMap<>(fresh.layout().pciSlots());
        moved.put("nic0", 31);
        KvmRuntime source = new KvmRuntime(fresh.argv(), fresh.nics(), fresh.hvparams(), new DeviceLayout(2, moved));
        MigrationInfo info = new MigrationInfo(RuntimeStore.serialize(source, inst));
        KvmMigrator.Incoming in = KvmMigrator.incoming(BUILDER, inst, info, "node-b", CAPS);
        assertEquals(source.layout(), in.generated().runtime().layout());
        List<String> sourceArgv = render(source, null);
        List<String> targetArgv = new ArrayList<>(render(in.generated().runtime(), "127.0.0.1"));
        assertTrue(targetArgv.contains("virtio-net-pci,mac=aa:00:00:35:d2:31,netdev=netdev0,id=nic0,addr=0x1f"),
                targetArgv.toString());
        int at = targetArgv.indexOf("-incoming");
        targetArgv.subList(at, at + 2).clear();
        assertEquals(sourceArgv, targetArgv, "the target runs what the source runs, plus -incoming");
    }

    @Test
    void aLayoutThisHvkitDoesNotKnowIsRefused() throws IOException {
        String text = Files.readString(fixture("layout-1.runtime"));
        String newer = text.replace("\"version\" : 2,", "\"version\" : 2,\n    \"layout\" : 3,");
        HypervisorException e = assertThrows(HypervisorException.class, () -> RuntimeStore.parse(newer, "f"));
        assertEquals("Failed to load KVM runtime file f: device layout 3 is not one this hvkit renders (1..2; a"
                + " newer hvkit wrote it?)", e.getMessage());
        String clash = text.replace("\"version\" : 2,", "\"version\" : 2,\n    \"layout\" : 2,"
                + " \"pci_slots\" : {\"nic0\" : 13, \"nic1\" : 13},");
        HypervisorException c = assertThrows(HypervisorException.class, () -> RuntimeStore.parse(clash, "f"));
        assertEquals("Failed to load KVM runtime file f: PCI slot 13 is given to both nic0 and nic1", c.getMessage());
        String junk = text.replace("\"version\" : 2,", "\"version\" : 2,\n    \"layout\" : 2,"
                + " \"pci_slots\" : {\"../x\" : \"0xc\"},");
        HypervisorException j = assertThrows(HypervisorException.class, () -> RuntimeStore.parse(junk, "f"));
        assertEquals("Failed to load KVM runtime file f: pci_slots holds '../x': \"0xc\" (a device id and a slot"
                + " number expected)", j.getMessage());
    }
}
