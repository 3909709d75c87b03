package org.hvkit.shell.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
    private static final long TAIL_BYTES = 1 << 20;

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
            List<String> lines = tailOf(log).lines().toList();
            for (String l : lines.subList(Math.max(0, lines.size() - tail), lines.size())) {
                System.out.println(l.replace("\r", ""));
            }
            return null;
        }
        attach(console.openSerial(name), session.getKeyboard(), session.getConsole());
        return null;
    }

    /** The last 1 MiB of the log at most: a guest that ran for months has a long one. */
    private static String tailOf(Path log) throws IOException {
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.READ)) {
            long size = ch.size();
            long from = Math.max(0, size - TAIL_BYTES);
            ByteBuffer b = ByteBuffer.allocate((int) (size - from));
            while (b.hasRemaining() && ch.read(b, from + b.position()) > 0) {
                // read on
            }
            String text = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
            // drop a first line cut in the middle
            return from == 0 ? text : text.substring(text.indexOf('\n') + 1);
        }
    }

    /** Pumps the channel to the terminal and the keyboard to the channel until Ctrl-] or the end of either. */
    private void attach(ByteChannel serial, InputStream keyboard, PrintStream out) throws Exception {
        try (ByteChannel ch = serial) {
            out.println("Connected to the serial console of " + name + " (Ctrl-] detaches)");
            out.flush();
            Thread reader = new Thread(() -> {
                ByteBuffer buf = ByteBuffer.allocate(4096);
                try {
                    while (ch.read(buf) >= 0) {
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
