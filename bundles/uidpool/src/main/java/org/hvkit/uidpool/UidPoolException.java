package org.hvkit.uidpool;

/** A pool definition is invalid, or a uid cannot be reserved or released (Ganeti's OpPrereqError/LockError). */
public class UidPoolException extends Exception {
    private static final long serialVersionUID = 1L;

    public UidPoolException(String message) {
        super(message);
    }

    public UidPoolException(String message, Throwable cause) {
        super(message, cause);
    }
}
