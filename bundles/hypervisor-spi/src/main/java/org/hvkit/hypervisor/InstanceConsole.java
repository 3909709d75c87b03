package org.hvkit.hypervisor;

import java.util.List;
import java.util.Objects;

/**
 * How to reach an instance's console (Ganeti's {@code InstanceConsole}). The constructor
 * enforces the rules of Ganeti's {@code InstanceConsole.Validate} ({@code lib/objects.py}):
 * {@code message} is required unless ssh/vnc, {@code host} unless msg, {@code port} and
 * {@code display} for vnc only, {@code user} and {@code command} for ssh only. Unused fields are
 * null (numbers: 0).
 */
public record InstanceConsole(String instance, ConsoleKind kind, String message, String host, int port,
                              String user, List<String> command, int display) {

    public InstanceConsole {
        Objects.requireNonNull(kind, "kind");
        if (instance == null || instance.isEmpty()) {
            throw new IllegalArgumentException("console: instance is required");
        }
        command = command == null ? null : List.copyOf(command);
        if (kind == ConsoleKind.MESSAGE && (message == null || message.isEmpty())) {
            throw new IllegalArgumentException("console of kind msg: message is required");
        }
        if (kind != ConsoleKind.MESSAGE && (host == null || host.isEmpty())) {
            throw new IllegalArgumentException("console of kind " + kind.ganetiName() + ": host is required");
        }
        if (kind == ConsoleKind.VNC && (port < 1 || port > 65535)) {
            throw new IllegalArgumentException("console of kind vnc: port is required (1..65535), got " + port);
        }
        if (kind == ConsoleKind.VNC && display < 0) {
            throw new IllegalArgumentException("console of kind vnc: display is required, got " + display);
        }
        if (kind == ConsoleKind.SSH && (user == null || user.isEmpty() || command == null || command.isEmpty())) {
            throw new IllegalArgumentException("console of kind ssh: user and command are required");
        }
    }

    /** Run {@code command} on {@code host} as {@code user}. */
    public static InstanceConsole ssh(String instance, String host, String user, List<String> command) {
        return new InstanceConsole(instance, ConsoleKind.SSH, null, host, 0, user, command, 0);
    }

    /** A VNC server at {@code host:port}, display {@code port - 5900}. */
    public static InstanceConsole vnc(String instance, String host, int port) {
        return new InstanceConsole(instance, ConsoleKind.VNC, null, host, port, null, null, port - 5900);
    }

    /** No console; only a message. */
    public static InstanceConsole message(String instance, String message) {
        return new InstanceConsole(instance, ConsoleKind.MESSAGE, message, null, 0, null, null, 0);
    }

    /** One line for operators, as Ganeti's client prints it. */
    public String describe() {
        switch (kind) {
            case SSH: return "ssh -t " + user + "@" + host + " " + String.join(" ", command);
            case VNC: return "Instance " + instance + " has VNC listening on " + host + ":" + port
                    + " (display " + display + "), URL <vnc://" + host + ":" + port + "/>";
            default: return message;
        }
    }
}
