package org.hvkit.kvm.internal.argv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.kvm.internal.caps.HelpFixtures;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Rendering of Ganeti 3.0's parameters that the golden scenarios do not show: refusals, URLs, values. */
class Ganeti30ArgsTest {

    private static final QemuCapabilities QEMU_72 = HelpFixtures.capabilities("qemu-7.2.22");
    /** A node without SPICE certificates whose one interface with an address is {@code v6only} (2001:db8::5). */
    private static final KvmArgvBuilder BUILDER = new KvmArgvBuilder(GoldenArgvTest.KVM, Set.of(), GoldenArgvTest.PATHS,
            new SpiceNode(null, null, name -> "v6only".equals(name) ? List.of(address("2001:db8::5")) : List.of()));

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static Instance instance(int vcpus, int port) {
        return Instance.builder(Scenario.INSTANCE).primaryNode("node-a").vcpus(vcpus).networkPort(port)
                .disk(new Disk("/srv/disk0", DiskMode.RW, 1024)).build();
    }

    private static Map<String, Object> hv(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>(KvmParameters.DEFAULTS);
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private static List<String> argv(Map<String, Object> hv) throws HypervisorException {
        return BUILDER.generate(instance(2, 5930), hv, QEMU_72).runtime().argv();
    }

    /** A start with a value hvkit checks but cannot honour yet is refused, naming the parameter. */
    @TestFactory
    Stream<DynamicTest> refusedUntilSupported() {
        Object[][] cases = {
            {"cpu_mask 0:1:2 has 3 masks but the instance has 2 vCPUs: give one mask for all vCPUs or one per vCPU",
                new Object[] {"cpu_mask", "0:1:2"}},
            {"SPICE: Unable to get an IP address for eth0", new Object[] {"spice_bind", "eth0"}},
            {"SPICE: Unable to get an IPv4 address for v6only",
                new Object[] {"spice_bind", "v6only", "spice_ip_version", 4L}},
            {"spice_use_tls true: SPICE over TLS needs the node's SPICE certificate files, and this node has none"
                + " (set spice.certificate and spice.ca.certificate in its configuration), or set spice_use_tls to"
                + " false", new Object[] {"spice_bind", "192.0.2.1", "spice_use_tls", true}},
            {"cdrom_disk_type scsi-block passes a host SCSI device through and cannot hold an ISO image; use"
                + " scsi-cd, scsi, ide or paravirtual",
                new Object[] {"cdrom_disk_type", "scsi-block", "cdrom_image_path", "/srv/a.iso"}},
        };
        return Stream.of(cases).map(c -> DynamicTest.dynamicTest((String) c[0], () -> assertEquals(c[0],
                assertThrows(HypervisorException.class, () -> argv(hv((Object[]) c[1]))).getMessage())));
    }

    /** An interface with IPv6 addresses only: that family, whatever spice_ip_version leaves open (Ganeti 3.0). */
    @Test
    void aSpiceInterfaceWithOneFamilyBindsItsAddress() throws HypervisorException {
        List<String> argv = argv(hv("spice_bind", "v6only", "spice_use_vdagent", false));
        assertEquals("addr=2001:db8:0:0:0:0:0:5,port=5930,disable-ticketing=on,ipv6=on,agent-mouse=off",
                argv.get(argv.indexOf("-spice") + 1));
    }

    @Test
    void migrationCapabilitiesNeedQmpAndAddNothingToTheCommand() throws HypervisorException {
        assertEquals(argv(hv()), argv(hv("migration_caps", "xbzrle:auto-converge")), "set over QMP when migrating");
        HypervisorException e = assertThrows(HypervisorException.class, () -> BUILDER.generate(instance(2, 5930),
                hv("migration_caps", "xbzrle"), HelpFixtures.capabilities("kvm-0.12.5")));
        assertEquals("migration_caps xbzrle: migration capabilities are set over QMP, and this QEMU has none; leave"
                + " it empty", e.getMessage());
    }

    @Test
    void defaultsOfTheLaterParametersAddNothing() throws HypervisorException {
        assertEquals(List.of("/usr/bin/kvm", "-name", Scenario.INSTANCE, "-m", "128", "-smp", "2", "-pidfile",
                GoldenArgvTest.PATHS.pidFile(Scenario.INSTANCE).toString(), "-daemonize", "-boot", "c", "-drive",
                "file=/srv/disk0,format=raw,if=none,id=disk0,auto-read-only=off", "-device",
                "virtio-blk-pci,id=virtio-disk0,drive=disk0,addr=0xc", "-display", "none", "-device",
                "virtio-balloon-pci,id=balloon0,addr=0xd"), argv(hv()));
        assertEquals(argv(hv()), argv(hv("kvm_path", "/usr/bin/kvm", "cpu_mask", "all", "disk_aio", "threads",
                "disk_discard", "default", "virtio_net_queues", 1L)), "the node's binary and Ganeti's defaults");
    }

    @Test
    void aUrlCdromLetsQemuProbeTheFormatAndValuesAreEscaped() throws HypervisorException {
        List<String> a = argv(hv("cdrom2_image_path", "https://example.com/a,b.iso", "floppy_image_path",
                "/srv/f,format=qcow2.img", "spice_bind", "192.0.2.1", "spice_tls_ciphers", "HIGH,x=y"));
        assertTrue(a.contains("file=https://example.com/a,,b.iso,media=cdrom"), a.toString());
        assertTrue(a.contains("file=/srv/f,,format=qcow2.img,format=raw,media=disk,if=floppy"), a.toString());
        assertFalse(String.join(" ", a).contains("x=y"), "ciphers only matter with TLS, which is refused: " + a);
    }

    @Test
    void spiceIsIgnoredNextToVncWithAWarning() throws HypervisorException {
        KvmArgvBuilder.Generated g = BUILDER.generate(instance(1, 5930),
                hv("spice_bind", "192.0.2.1", "vnc_bind_address", "127.0.0.1"), QEMU_72);
        assertFalse(g.runtime().argv().contains("-spice"));
        assertEquals(List.of("spice_bind is ignored: VNC is configured, and only one of them can be used at a given"
                + " time"), g.warnings());
    }

    @Test
    void spiceNeedsANetworkPort() {
        assertEquals("SPICE listens on the instance's network_port, which is 0; give the instance a network_port"
                + " from 1 to 65535", assertThrows(HypervisorException.class,
                () -> BUILDER.generate(instance(1, 0), hv("spice_bind", "::1"), QEMU_72)).getMessage());
    }

    @Test
    void kvmExtraIsAppendedAsSeparateArgumentsLast() throws HypervisorException {
        List<String> a = argv(hv("kvm_extra", "-device virtio-rng-pci,id=rng0\t -no-hpet"));
        assertEquals(List.of("-device", "virtio-rng-pci,id=rng0", "-no-hpet"), a.subList(a.size() - 3, a.size()));
    }

    @Test
    void vnetHdrFollowsTheParameterForParavirtualNicsOnly() {
        assertTrue(NicArgs.vnetHdr(hv(), QEMU_72));
        assertFalse(NicArgs.vnetHdr(hv("vnet_hdr", false), QEMU_72));
        assertFalse(NicArgs.vnetHdr(hv("nic_type", "e1000"), QEMU_72));
        assertFalse(NicArgs.vnetHdr(hv(), HelpFixtures.capabilities("kvm-0.9.1")), "no virtio-net-pci there");
    }
}
