package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.CHARDEV;
import static org.hvkit.kvm.internal.caps.QemuFeature.CHARDEV_LOGFILE;
import static org.hvkit.kvm.internal.caps.QemuFeature.DEVICE;
import static org.hvkit.kvm.internal.caps.QemuFeature.QMP;
import static org.hvkit.kvm.internal.params.KvmParameters.SERIAL_CONSOLE;
import static org.hvkit.kvm.internal.params.KvmParameters.USE_GUEST_AGENT;

import java.nio.file.Path;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.runtime.RuntimePaths;

/**
 * The human monitor, QMP, the serial console and the QEMU guest agent's channel. Where QEMU takes descriptors, hvkit has bound
 * the sockets (any root.dir length works) and passes them; else QEMU binds the paths, which must
 * then fit sockaddr_un. The serial console keeps a log as well: a unix socket serves one client
 * and drops output while nobody listens.
 */
final class ConsoleArgs {

    private static final String GUEST_AGENT_ID = "qga0";

    private ConsoleArgs() {
    }

    /** Saved with the runtime: no serial port at all when there is no serial console. */
    static void serialNone(Argv a) {
        if (!a.bool(SERIAL_CONSOLE)) {
            a.add("-serial", "none");
        }
    }

    /** Node-local: the sockets, as descriptors or paths. */
    static void sockets(Argv a, String name, ExecutionContext.ControlFds fds) throws HypervisorException {
        boolean serial = a.bool(SERIAL_CONSOLE);
        String log = ",logfile=" + QemuOpts.escape(a.paths.serialLog(name).toString());
        if (fds != null) {
            chardev(a, "hmp0", fds.monitor(), "");
            a.add("-mon", "chardev=hmp0,mode=readline");
            chardev(a, "qmp0", fds.qmp(), "");
            a.add("-mon", "chardev=qmp0,mode=control");
            if (serial) {
                chardev(a, "serial0", fds.serial(), log);
                a.add("-serial", "chardev:serial0");
            }
            if (fds.guestAgent() >= 0) {
                chardev(a, GUEST_AGENT_ID, fds.guestAgent(), "");
                guestAgentPort(a);
            }
            return;
        }
        a.paths.checkSocketPaths(name);
        boolean modern = a.caps.has(CHARDEV_LOGFILE);
        a.add("-monitor", socketArg(a.paths.monitorSocket(name), modern));
        if (a.caps.has(QMP)) {
            a.add("-qmp", socketArg(a.paths.qmpSocket(name), modern));
        }
        if (serial && modern) {
            a.add("-chardev", "socket,id=serial0,path=" + QemuOpts.escape(a.paths.serialSocket(name).toString())
                    + ",server=on,wait=off" + log);
            a.add("-serial", "chardev:serial0");
        } else if (serial) {
            a.add("-serial", socketArg(a.paths.serialSocket(name), false));
        }
        if (a.bool(USE_GUEST_AGENT)) {
            Path agent = a.paths.guestAgentSocket(name);
            RuntimePaths.checkSocketPath(agent, "QEMU binds the guest agent socket itself: use a shorter root.dir or a"
                    + " QEMU that accepts socket descriptors (2.12 or later)");
            a.add("-chardev", "socket,id=" + GUEST_AGENT_ID + ",path=" + QemuOpts.escape(agent.toString())
                    + (modern ? ",server=on,wait=off" : ",server,nowait"));
            guestAgentPort(a);
        }
    }

    /**
     * {@code use_guest_agent} (Ganeti 3.0): a virtio-serial port named
     * {@code org.qemu.guest_agent.0}, the name the QEMU guest agent looks for, on the chardev.
     */
    private static void guestAgentPort(Argv a) throws HypervisorException {
        if (!a.caps.has(DEVICE) || !a.caps.has(CHARDEV)) {
            throw new HypervisorException("use_guest_agent: this QEMU has no -device/-chardev for a virtio-serial"
                    + " channel; set use_guest_agent to false");
        }
        a.add("-device", "virtio-serial-pci,id=qga-serial0",
                "-device", "virtserialport,bus=qga-serial0.0,chardev=" + GUEST_AGENT_ID + ",name=org.qemu.guest_agent.0");
    }

    private static void chardev(Argv a, String id, int fd, String extra) {
        a.add("-chardev", "socket,id=" + id + ",fd=" + fd + ",server=on,wait=off" + extra);
    }

    private static String socketArg(Path socket, boolean modern) {
        return "unix:" + QemuOpts.escape(socket.toString()) + (modern ? ",server=on,wait=off" : ",server,nowait");
    }
}
