package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.NETDEV;
import static org.hvkit.kvm.internal.caps.QemuFeature.QMP;
import static org.hvkit.kvm.internal.caps.QemuFeature.VHOST;
import static org.hvkit.kvm.internal.params.KvmParameters.MIGRATION_PORT;
import static org.hvkit.kvm.internal.params.KvmParameters.NIC_TYPE;
import static org.hvkit.kvm.internal.params.KvmParameters.VHOST_NET;
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
 * {@code cont}).
 */
public final class NicArgs {

    private NicArgs() {
    }

    static void render(Argv a, List<Nic> nics, List<Integer> fds) throws HypervisorException {
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
            int fd = fds.get(i);
            String mac = nics.get(i).mac();
            if (a.caps.has(NETDEV)) {
                a.add("-netdev", "type=tap,id=netdev" + i + ",fd=" + fd + vhost);
                a.add("-device", model + ",mac=" + mac + ",netdev=netdev" + i);
            } else {
                a.add("-net", "tap,vlan=" + i + ",fd=" + fd);
                a.add("-net", "nic,vlan=" + i + ",macaddr=" + mac + ",model=" + model);
            }
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
