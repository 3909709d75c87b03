package org.hvkit.kvm.internal.caps;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * The GNU build id of an ELF executable ({@code NT_GNU_BUILD_ID} in a {@code PT_NOTE} segment):
 * two QEMU builds with the same size and modification time still differ here. Reads a few
 * bounded ranges of the file; anything that is not a well-formed 64-bit little-endian ELF with
 * such a note (a wrapper script such as Debian's {@code /usr/bin/kvm}) has no build id.
 */
final class ElfBuildId {

    private static final int PT_NOTE = 4;
    private static final int NT_GNU_BUILD_ID = 3;
    private static final int MAX_PHDRS = 256;
    private static final int MAX_NOTES_BYTES = 64 << 10;

    private ElfBuildId() {
    }

    /** The build id as lower-case hex, or "" when there is none. */
    static String of(Path file) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            ByteBuffer h = read(f, 0, 64);
            if (h == null || h.getInt(0) != 0x464c457f || h.get(4) != 2 || h.get(5) != 1) {
                return "";
            }
            long phoff = h.getLong(0x20);
            int phentsize = Short.toUnsignedInt(h.getShort(0x36));
            int phnum = Short.toUnsignedInt(h.getShort(0x38));
            if (phentsize < 56 || phnum > MAX_PHDRS) {
                return "";
            }
            for (int i = 0; i < phnum; i++) {
                ByteBuffer ph = read(f, phoff + (long) i * phentsize, 56);
                if (ph == null) {
                    return "";
                }
                if (ph.getInt(0) == PT_NOTE) {
                    long size = ph.getLong(32);
                    String id = size > 0 && size <= MAX_NOTES_BYTES ? inNotes(read(f, ph.getLong(8), (int) size)) : "";
                    if (!id.isEmpty()) {
                        return id;
                    }
                }
            }
            return "";
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static String inNotes(ByteBuffer notes) {
        if (notes == null) {
            return "";
        }
        int at = 0;
        while (at + 12 <= notes.limit()) {
            int namesz = notes.getInt(at);
            int descsz = notes.getInt(at + 4);
            int type = notes.getInt(at + 8);
            if (namesz < 0 || descsz < 0 || namesz > notes.limit() || descsz > notes.limit()) {
                return "";
            }
            int name = at + 12;
            int desc = name + align(namesz);
            if (desc + descsz > notes.limit()) {
                return "";
            }
            if (type == NT_GNU_BUILD_ID && namesz == 4 && descsz > 0 && descsz <= 64) {
                byte[] n = new byte[3];
                notes.get(name, n);
                if (new String(n, StandardCharsets.US_ASCII).equals("GNU")) {
                    byte[] id = new byte[descsz];
                    notes.get(desc, id);
                    return HexFormat.of().formatHex(id);
                }
            }
            at = desc + align(descsz);
        }
        return "";
    }

    private static int align(int n) {
        return (n + 3) & ~3;
    }

    private static ByteBuffer read(RandomAccessFile f, long offset, int length) throws IOException {
        if (offset < 0 || length < 0 || offset + length > f.length()) {
            return null;
        }
        byte[] b = new byte[length];
        f.seek(offset);
        f.readFully(b);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}
