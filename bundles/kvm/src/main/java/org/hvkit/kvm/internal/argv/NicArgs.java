package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.NETDEV;
import static org.hvkit.kvm.internal.caps.QemuFeature.NETDEV_TAP_FDS;
import static org.hvkit.kvm.internal.caps.QemuFeature.QMP;
import static org.hvkit.kvm.internal.caps.QemuFeature.VHOST;
import static org.hvkit.kvm.internal.params.KvmParameters.MIGRATION_PORT;
import static org.hvkit.kvm.internal.params.KvmParameters.NIC_TYPE;
import static org.hvkit.kvm.internal.params.KvmParameters.VHOST_NET;
import static org.hvkit.kvm.internal.params.KvmParameters.VIRTIO_NET_QUEUES;
import static org.hvkit.kvm.internal.params.KvmParameters.VNET_HDR;

import java.util.List;
import java.util.Map;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Nic;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.params.KvmParameters;

/**
 * The NICs on the tap descriptors this node opened ({@code -netdev tap,fd=} + {@code -device},
 * or the legacy {@code -net tap,vlan=} pair), then how QEMU starts: {@code -incoming} on a
 * migration target and {@code -S} (the driver sets the VNC password over QMP, then sends
 * {@code cont}). With {@code virtio_net_queues} N &gt; 1 a paravirtual NIC is a multiqueue tap:
 * {@code fds=a:b:…} (one descriptor a queue) and {@code mq=on,vectors=2N+2} on the device, as
 * Ganeti 3.0's {@code _GetNetworkDeviceFeatures} and {@code _ExecuteKVMRuntime}
 * ({@code lib/hypervisor/hv_kvm/__init__.py}); with {@code vhost=on} QEMU opens one
 * {@code /dev/vhost-net} a queue itself.
 */
public final class NicArgs {

    private NicArgs() {
    }

    /** @param pciSlots the runtime's slots ({@link DeviceLayout}): a NIC with one gets {@code id=nic<i>,addr=} */
    static void render(Argv a, List<Nic> nics, List<List<Integer>> fds, Map<String, Integer> pciSlots)
            throws HypervisorException {
        if (fds.size() != nics.size()) {
            throw new IllegalArgumentException(nics.size() + " NICs but " + fds.size() + " tap descriptors");
        }
        if (nics.isEmpty()) {
            a.add("-net", "none");
            return;
        }
        boolean paravirtual = KvmParameters.paravirtual(a.hv, NIC_TYPE);
        String model = paravirtual ? a.caps.paravirtualNicModel() : a.str(NIC_TYPE);
        String vhost = "";
        if (paravirtual && a.bool(VHOST_NET)) {
            if (!a.caps.has(VHOST)) {
                throw new HypervisorException("vhost_net is configured but it is not available");
            }
            vhost = ",vhost=on";
        }
        for (int i = 0; i < nics.size(); i++) {
            List<Integer> queues = fds.get(i);
            String mac = nics.get(i).mac();
            if (a.caps.has(NETDEV)) {
                String tapFds = queues.size() == 1 ? "fd=" + queues.get(0)
                        : "fds=" + String.join(":", queues.stream().map(String::valueOf).toList());
                String mq = queues.size() == 1 ? "" : ",mq=on,vectors=" + (2 * queues.size() + 2);
                a.add("-netdev", "type=tap,id=netdev" + i + "," + tapFds + vhost);
                Integer slot = pciSlots.get(DeviceLayout.nic(i));
                String at = slot == null ? "" : ",id=" + DeviceLayout.nic(i) + ",addr=" + PciSlots.addr(slot);
                a.add("-device", model + ",mac=" + mac + ",netdev=netdev" + i + at + mq);
            } else {
                if (queues.size() != 1) {
                    throw new IllegalArgumentException("legacy -net NICs have one queue, not " + queues.size());
                }
                int fd = queues.get(0);
                a.add("-net", "tap,vlan=" + i + ",fd=" + fd);
                a.add("-net", "nic,vlan=" + i + ",macaddr=" + mac + ",model=" + model);
            }
        }
    }

    /**
     * The queues (tap descriptors) of each NIC: {@code virtio_net_queues} for paravirtual NICs
     * with {@code -netdev}, else 1 (Ganeti 3.0 applies the parameter to paravirtual NICs only).
     */
    public static int queues(Map<String, Object> up, QemuCapabilities caps) {
        Object q = up.get(VIRTIO_NET_QUEUES);
        if (!(q instanceof Number) || !KvmParameters.paravirtual(up, NIC_TYPE) || !caps.has(NETDEV)) {
            return 1;
        }
        long n = ((Number) q).longValue();
        if (n < 1 || n > org.hvkit.netdev.TapDevices.MAX_QUEUES) {
            throw new IllegalArgumentException("virtio_net_queues " + n + " is outside 1.."
                    + org.hvkit.netdev.TapDevices.MAX_QUEUES);
        }
        return (int) n;
    }

    /**
     * {@code virtio_net_queues} &gt; 1: on a non-paravirtual NIC it does nothing (a warning, as
     * Ganeti ignores it there); on a paravirtual one it needs {@code -netdev tap,fds=}.
     */
    static void checkQueues(Argv a) throws HypervisorException {
        Object q = a.hv.get(VIRTIO_NET_QUEUES);
        if (!(q instanceof Number) || ((Number) q).longValue() <= 1) {
            return;
        }
        if (!KvmParameters.paravirtual(a.hv, NIC_TYPE)) {
            a.warn("virtio_net_queues " + q + " has no effect with nic_type " + a.str(NIC_TYPE)
                    + ": multiqueue is for paravirtual NICs");
        } else if (!a.caps.has(NETDEV) || !a.caps.has(NETDEV_TAP_FDS)) {
            throw new HypervisorException("virtio_net_queues " + q + ": multiqueue is configured but this QEMU's"
                    + " -netdev tap has no fds= (QEMU 1.4 and later); set it to 1");
        }
    }

    /**
     * Whether the taps are opened with {@code IFF_VNET_HDR}: for paravirtual NICs on
     * virtio-net-pci (Ganeti 3.0's {@code _GetNetworkDeviceFeatures}) unless {@code vnet_hdr}
     * is off. QEMU reads the flag from the descriptor; the command line does not change.
     */
    public static boolean vnetHdr(Map<String, Object> up, QemuCapabilities caps) {
        return KvmParameters.paravirtual(up, NIC_TYPE) && caps.has(NETDEV) && KvmParameters.bool(up, VNET_HDR);
    }

    static void startMode(Argv a, ExecutionContext ctx) {
        if (ctx.incomingAddress() != null) {
            a.add("-incoming", "tcp:" + ctx.incomingAddress() + ":" + a.hv.get(MIGRATION_PORT));
        }
        if (a.caps.has(QMP) || ctx.startPaused()) {
            a.add("-S");
        }
    }
}
