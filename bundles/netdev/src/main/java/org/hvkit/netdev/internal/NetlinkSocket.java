package org.hvkit.netdev.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;

import org.hvkit.netdev.NativeException;

/**
 * One {@code NETLINK_ROUTE} socket. {@link #request} sends one message with
 * {@code NLM_F_ACK} and collects the replies up to the kernel's acknowledgement; a negative
 * acknowledgement becomes a {@link NativeException} with the kernel's errno.
 */
final class NetlinkSocket implements AutoCloseable {

    static final int NLM_F_REQUEST = 0x1;
    static final int NLM_F_ACK = 0x4;
    static final int NLM_F_REPLACE = 0x100;
    /** NLM_F_ROOT | NLM_F_MATCH: every object of the kind, one reply each, ended by NLMSG_DONE. */
    static final int NLM_F_DUMP = 0x300;
    static final int NLM_F_EXCL = 0x200;
    static final int NLM_F_CREATE = 0x400;
    private static final int NLMSG_ERROR = 2;
    private static final int NLMSG_DONE = 3;
    private static final int HEADER = 16;
    private static final int NETLINK_ROUTE = 0;
    private static final int SOCKADDR_NL = 12;
    private static final int RECV_BUFFER = 64 * 1024;

    private final int fd;
    private final Memory kernel = new Memory(SOCKADDR_NL);
    private final Memory recvBuffer = new Memory(RECV_BUFFER);
    private int seq;

    NetlinkSocket() throws NativeException {
        fd = LibC.check(LibC.INSTANCE.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, NETLINK_ROUTE),
                "netlink socket");
        kernel.clear();
        kernel.setShort(0, (short) LibC.AF_NETLINK);
        try {
            Memory local = new Memory(SOCKADDR_NL);
            local.clear();
            local.setShort(0, (short) LibC.AF_NETLINK);
            LibC.check(LibC.INSTANCE.bind(fd, local, SOCKADDR_NL), "netlink bind");
        } catch (NativeException e) {
            LibC.closeQuietly(fd);
            throw e;
        }
    }

    /**
     * Sends {@code body} as a message of {@code type} and returns the bodies of the replies that
     * came before the acknowledgement.
     *
     * @param what names the operation in error messages, e.g. "set tap0 up"
     */
    List<ByteBuffer> request(int type, int flags, byte[] body, String what) throws NativeException {
        int mySeq = ++seq;
        int len = HEADER + body.length;
        Memory msg = new Memory(len);
        ByteBuffer b = msg.getByteBuffer(0, len).order(ByteOrder.nativeOrder());
        b.putInt(len).putShort((short) type).putShort((short) (flags | NLM_F_REQUEST | NLM_F_ACK)).putInt(mySeq).putInt(0);
        b.put(body);
        long sent;
        do {
            sent = LibC.INSTANCE.sendto(fd, msg, new NativeLong(len), 0, kernel, SOCKADDR_NL).longValue();
        } while (sent == -1 && Native.getLastError() == LibC.EINTR);
        if (sent == -1) {
            throw LibC.error(what + ": netlink send", Native.getLastError());
        }
        List<ByteBuffer> replies = new ArrayList<>();
        while (true) {
            long n = LibC.INSTANCE.recv(fd, recvBuffer, new NativeLong(RECV_BUFFER), 0).longValue();
            if (n == -1) {
                if (Native.getLastError() == LibC.EINTR) {
                    continue;
                }
                throw LibC.error(what + ": netlink receive", Native.getLastError());
            }
            ByteBuffer in = recvBuffer.getByteBuffer(0, n).order(ByteOrder.nativeOrder());
            int pos = 0;
            while (pos + HEADER <= n) {
                int mlen = in.getInt(pos);
                int mtype = Short.toUnsignedInt(in.getShort(pos + 4));
                int mseq = in.getInt(pos + 8);
                if (mlen < HEADER || pos + mlen > n) {
                    throw new NativeException(what + ": truncated netlink reply", 0);
                }
                if (mseq == mySeq) {
                    if (mtype == NLMSG_ERROR) {
                        int error = in.getInt(pos + HEADER);
                        if (error == 0) {
                            return replies;
                        }
                        throw LibC.error(what, -error);
                    }
                    if (mtype == NLMSG_DONE) {
                        return replies;
                    }
                    byte[] copy = new byte[mlen - HEADER];
                    in.get(pos + HEADER, copy);
                    replies.add(ByteBuffer.wrap(copy).order(ByteOrder.nativeOrder()));
                }
                pos += (mlen + 3) & ~3;
            }
        }
    }

    @Override
    public void close() {
        LibC.closeQuietly(fd);
    }
}
