package org.hvkit.itests;

/** Keyboard input that arrives after a delay, as a person would type it. */
final class DelayedKey extends java.io.InputStream {
    private final long delayMillis;
    private final int key;
    private boolean sent;

    DelayedKey(long delayMillis, int key) {
        this.delayMillis = delayMillis;
        this.key = key;
    }

    @Override
    public int read() {
        if (sent) {
            return -1;
        }
        try {
            Thread.sleep(delayMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sent = true;
        return key;
    }
}
