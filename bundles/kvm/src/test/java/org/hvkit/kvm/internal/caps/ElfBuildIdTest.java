package org.hvkit.kvm.internal.caps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The build id keys the capability cache; a file that is not such an ELF simply has none. */
class ElfBuildIdTest {

    /** A minimal ELF64 header with one PT_NOTE program header over {@code notes}. */
    private static byte[] elf(byte[] notes) {
        ByteBuffer b = ByteBuffer.allocate(64 + 56 + notes.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x464c457f).put(4, (byte) 2).put(5, (byte) 1);
        b.putLong(0x20, 64).putShort(0x36, (short) 56).putShort(0x38, (short) 1);
        b.putInt(64, 4).putLong(64 + 8, 120).putLong(64 + 32, notes.length);
        b.put(120, notes);
        return b.array();
    }

    private static byte[] note(int type, String name, byte[] desc) {
        byte[] n = name.getBytes();
        int nameLen = n.length + 1;
        ByteBuffer b = ByteBuffer.allocate(12 + ((nameLen + 3) & ~3) + ((desc.length + 3) & ~3))
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(nameLen).putInt(desc.length).putInt(type).put(n);
        b.position(12 + ((nameLen + 3) & ~3));
        b.put(desc);
        return b.array();
    }

    @Test
    void readsTheGnuBuildIdNote(@TempDir Path tmp) throws Exception {
        byte[] id = {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef, 1, 2};
        byte[] other = note(1, "GNU", new byte[16]);
        byte[] build = note(3, "GNU", id);
        byte[] notes = ByteBuffer.allocate(other.length + build.length).put(other).put(build).array();
        Path f = Files.write(tmp.resolve("qemu"), elf(notes));
        assertEquals("deadbeef0102", ElfBuildId.of(f));
    }

    @Test
    void theRealQemuHasOneWhereItIsInstalled() {
        Path qemu = Path.of("/usr/bin/qemu-system-x86_64");
        if (Files.isRegularFile(qemu)) {
            assertTrue(ElfBuildId.of(qemu).matches("[0-9a-f]{16,128}"), ElfBuildId.of(qemu));
        }
    }

    @Test
    void noBuildIdInScriptsTruncatedOrLyingFiles(@TempDir Path tmp) throws Exception {
        assertEquals("", ElfBuildId.of(Files.writeString(tmp.resolve("kvm"), "#!/bin/sh\nexec qemu \"$@\"\n")));
        assertEquals("", ElfBuildId.of(tmp.resolve("missing")));
        byte[] good = elf(note(3, "GNU", new byte[] {1, 2, 3, 4}));
        assertEquals("", ElfBuildId.of(Files.write(tmp.resolve("cut"), java.util.Arrays.copyOf(good, 100))));
        byte[] huge = good.clone();
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putInt(120 + 4, Integer.MAX_VALUE);
        assertEquals("", ElfBuildId.of(Files.write(tmp.resolve("huge"), huge)), "a descriptor size past the end");
        byte[] negative = good.clone();
        ByteBuffer.wrap(negative).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 8, -5);
        assertEquals("", ElfBuildId.of(Files.write(tmp.resolve("negative"), negative)), "a negative offset");
        byte[] notGnu = elf(note(3, "XYZ", new byte[] {1, 2, 3, 4}));
        assertEquals("", ElfBuildId.of(Files.write(tmp.resolve("notgnu"), notGnu)));
    }
}
