package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.CHARDEV_LOGFILE;
import static org.hvkit.kvm.internal.caps.QemuFeature.QMP;
import static org.hvkit.kvm.internal.params.KvmParameters.SERIAL_CONSOLE;

import java.nio.file.Path;

import org.hvkit.hypervisor.HypervisorException;

/**
 * The human monitor, QMP and the serial console. Where QEMU takes descriptors, hvkit has bound
 * the sockets (any root.dir length works) and passes them; else QEMU binds the paths, which must
 * then fit sockaddr_un. The serial console keeps a log as well: a unix socket serves one client
 * and drops output while nobody listens.
 */
final class ConsoleArgs {

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
    }

    private static void chardev(Argv a, String id, int fd, String extra) {
        a.add("-chardev", "socket,id=" + id + ",fd=" + fd + ",server=on,wait=off" + extra);
    }

    private static String socketArg(Path socket, boolean modern) {
        return "unix:" + QemuOpts.escape(socket.toString()) + (modern ? ",server=on,wait=off" : ",server,nowait");
    }
}
