package org.hvkit.netdev.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Builds the body of an rtnetlink request (a fixed header followed by attributes, each
 * 4-byte aligned) and parses attributes of replies. Host byte order, as netlink wants.
 */
final class NetlinkMessage {

    static final int NLA_F_NESTED = 0x8000;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Deque<Integer> nests = new ArrayDeque<>();

    private static ByteBuffer buffer(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.nativeOrder());
    }

    NetlinkMessage u8(int v) {
        out.write(v & 0xff);
        return this;
    }

    NetlinkMessage u16(int v) {
        out.writeBytes(buffer(2).putShort((short) v).array());
        return this;
    }

    NetlinkMessage u32(int v) {
        out.writeBytes(buffer(4).putInt(v).array());
        return this;
    }

    NetlinkMessage attr(int type, byte[] payload) {
        int len = 4 + payload.length;
        u16(len).u16(type);
        out.writeBytes(payload);
        pad();
        return this;
    }

    NetlinkMessage attrU32(int type, int v) {
        return attr(type, buffer(4).putInt(v).array());
    }

    /** A NUL-terminated string attribute. */
    NetlinkMessage attrString(int type, String v) {
        byte[] s = v.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[s.length + 1];
        System.arraycopy(s, 0, z, 0, s.length);
        return attr(type, z);
    }

    NetlinkMessage nestStart(int type) {
        nests.push(out.size());
        return u16(0).u16(type | NLA_F_NESTED);
    }

    NetlinkMessage nestEnd() {
        int start = nests.pop();
        byte[] all = out.toByteArray();
        int len = all.length - start;
        ByteBuffer.wrap(all).order(ByteOrder.nativeOrder()).putShort(start, (short) len);
        out.reset();
        out.writeBytes(all);
        return this;
    }

    private void pad() {
        while (out.size() % 4 != 0) {
            out.write(0);
        }
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    /** Attributes of a reply body starting at {@code offset}: type (without flags) to payload. */
    static Map<Integer, byte[]> attributes(ByteBuffer body, int offset) {
        Map<Integer, byte[]> attrs = new HashMap<>();
        ByteBuffer b = body.duplicate().order(ByteOrder.nativeOrder());
        int pos = offset;
        while (pos + 4 <= b.limit()) {
            int len = Short.toUnsignedInt(b.getShort(pos));
            int type = Short.toUnsignedInt(b.getShort(pos + 2)) & ~NLA_F_NESTED & 0x7fff;
            if (len < 4 || pos + len > b.limit()) {
                break;
            }
            byte[] payload = new byte[len - 4];
            b.get(pos + 4, payload);
            attrs.putIfAbsent(type, payload);
            pos += (len + 3) & ~3;
        }
        return attrs;
    }

    static int u32(byte[] payload) {
        return ByteBuffer.wrap(payload).order(ByteOrder.nativeOrder()).getInt();
    }

    /** A NUL-terminated string payload. */
    static String string(byte[] payload) {
        int len = 0;
        while (len < payload.length && payload[len] != 0) {
            len++;
        }
        return new String(payload, 0, len, StandardCharsets.UTF_8);
    }
}
