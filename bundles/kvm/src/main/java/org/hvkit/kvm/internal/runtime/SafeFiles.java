package org.hvkit.kvm.internal.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Reads the small files of the runtime directory (runtime, pid, uid and nic files) as hostile
 * input: only regular files, never through a symbolic link, and never more than a bound — a
 * FIFO or {@code /dev/zero} planted as {@code conf/x.runtime} must not hang or exhaust the
 * JVM, and a link to {@code /etc/shadow} must not be read into an error message.
 */
public final class SafeFiles {

    private SafeFiles() {
    }

    /** @throws java.nio.file.NoSuchFileException when it does not exist */
    public static String read(Path file, int maxBytes) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isRegularFile()) {
            throw new IOException("not a regular file (" + kind(a) + ")");
        }
        if (a.size() > maxBytes) {
            throw new IOException("it is " + a.size() + " bytes long; at most " + maxBytes + " are read");
        }
        try (InputStream in = Channels.newInputStream(Files.newByteChannel(file, StandardOpenOption.READ,
                LinkOption.NOFOLLOW_LINKS))) {
            byte[] b = in.readNBytes(maxBytes + 1);
            if (b.length > maxBytes) {
                throw new IOException("it grew beyond " + maxBytes + " bytes while being read");
            }
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    /**
     * The end of a file another user may write (QEMU's {@code -D} log): only a regular file,
     * never through a link, at most the last {@code maxBytes} bytes (a partial first line
     * dropped) and at most the last {@code maxLines} lines, control characters but newlines
     * shown as {@code ?}.
     *
     * @throws java.nio.file.NoSuchFileException when it does not exist
     */
    public static String tail(Path file, int maxBytes, int maxLines) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isRegularFile()) {
            throw new IOException("not a regular file (" + kind(a) + ")");
        }
        byte[] b;
        long from;
        try (java.nio.channels.SeekableByteChannel ch = Files.newByteChannel(file, StandardOpenOption.READ,
                LinkOption.NOFOLLOW_LINKS)) {
            from = Math.max(0, ch.size() - maxBytes);
            ch.position(from);
            b = Channels.newInputStream(ch).readNBytes(maxBytes);
        }
        String text = new String(b, StandardCharsets.UTF_8);
        if (from > 0 && text.indexOf('\n') >= 0) {
            text = text.substring(text.indexOf('\n') + 1);
        }
        java.util.List<String> lines = text.lines().map(l -> l.replaceAll("\\p{Cntrl}", "?")).toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - maxLines), lines.size()));
    }

    private static String kind(BasicFileAttributes a) {
        return a.isSymbolicLink() ? "a symbolic link" : a.isDirectory() ? "a directory" : "a device, FIFO or socket";
    }
}
