package org.hvkit.hypervisor;

/** Ganeti's console kinds ({@code ssh}, {@code vnc}, {@code msg}). */
public enum ConsoleKind {
    /** Run {@code command} as {@code user} on {@code host} through {@code ssh -t}. */
    SSH("ssh"),
    /** Connect a VNC client to {@code host:port}. */
    VNC("vnc"),
    /** No console; show {@code message}. */
    MESSAGE("msg");

    private final String ganetiName;

    ConsoleKind(String ganetiName) {
        this.ganetiName = ganetiName;
    }

    public String ganetiName() {
        return ganetiName;
    }
}
