package org.hvkit.shell.internal;

import java.io.InputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.SerialConsole;

@Command(scope = "hv", name = "console", description = "Attaches to an instance's serial console (Ctrl-] detaches),"
        + " or with --tail prints its last lines and returns.")
@Service
public final class ConsoleCommand extends InstanceAction {

    private static final int CTRL_RIGHT_BRACKET = 0x1d;

    @Option(name = "--tail", description = "Print the last N lines of the serial output and return")
    int tail = -1;

    @Reference
    Session session;

    @Override
    Object run(HypervisorRegistry.Entry entry) throws Exception {
        if (!(entry.hypervisor() instanceof SerialConsole)) {
            throw new HypervisorException("Hypervisor " + entry.label() + " has no serial consoles");
        }
        SerialConsole console = (SerialConsole) entry.hypervisor();
        if (tail >= 0) {
            Path log = console.serialLog(name).orElseThrow(() -> new HypervisorException("Instance " + name
                    + " keeps no serial log (serial_console off, or a QEMU without chardev logfile)"));
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            for (String l : lines.subList(Math.max(0, lines.size() - tail), lines.size())) {
                System.out.println(l.replace("\r", ""));
            }
            return null;
        }
        Path socket = console.serialSocket(name).orElseThrow(() -> new HypervisorException("Instance " + name
                + " has no serial console socket (serial_console is off)"));
        attach(socket, session.getKeyboard(), session.getConsole());
        return null;
    }

    /** Pumps the socket to the terminal and the keyboard to the socket until Ctrl-] or the end of either. */
    private void attach(Path socket, InputStream keyboard, PrintStream out) throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            out.println("Connected to the serial console of " + name + " (Ctrl-] detaches)");
            out.flush();
            Thread reader = new Thread(() -> {
                ByteBuffer buf = ByteBuffer.allocate(4096);
                try {
                    while (ch.read(buf) > 0) {
                        out.write(buf.array(), 0, buf.position());
                        out.flush();
                        buf.clear();
                    }
                } catch (Exception e) {
                    // detached or the instance went away
                }
            }, "hv-console-" + name);
            reader.setDaemon(true);
            reader.start();
            int c;
            while ((c = keyboard.read()) >= 0 && c != CTRL_RIGHT_BRACKET) {
                ch.write(ByteBuffer.wrap(new byte[] {(byte) c}));
            }
            out.println();
            out.println("Detached from " + name);
        }
    }
}
