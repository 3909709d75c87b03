package org.hvkit.netdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.hvkit.netdev.internal.TunTapDevices;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TapDevicesTest {

    private final TapDevices taps = new TunTapDevices();

    @BeforeEach
    void privateNetns() {
        PrivateNetns.require();
    }

    private static int tunFlags(String tap) throws Exception {
        return Integer.decode(Files.readString(Path.of("/sys/class/net", tap, "tun_flags")).trim());
    }

    @Test
    void vnetHdrIsProbedAndSet() throws Exception {
        assertTrue((taps.features().orElseThrow() & TapDevices.IFF_VNET_HDR) != 0, "this kernel supports vnet_hdr");
        try (Tap with = taps.open(null, true); Tap without = taps.open(null, false)) {
            assertTrue(with.name().startsWith("tap"), with.name());
            assertTrue(with.vnetHdr());
            assertFalse(without.vnetHdr());
            assertEquals(0x4000, tunFlags(with.name()) & 0x4000, "IFF_VNET_HDR on " + with.name());
            assertEquals(0, tunFlags(without.name()) & 0x4000, "no IFF_VNET_HDR on " + without.name());
            assertEquals(0x1002, tunFlags(without.name()) & 0x1002, "IFF_TAP|IFF_NO_PI");
            String details = PrivateNetns.sh("ip", "-d", "link", "show", with.name());
            assertTrue(details.contains("vnet_hdr on"), details);
        }
    }

    @Test
    void requestedNameAndLifetime() throws Exception {
        Tap tap = taps.open("hvtest0", false);
        assertEquals("hvtest0", tap.name());
        assertTrue(Files.exists(Path.of("/sys/class/net/hvtest0")));
        tap.close();
        tap.close(); // idempotent
        assertFalse(Files.exists(Path.of("/sys/class/net/hvtest0")), "a non-persistent tap dies with its last fd");
    }

    @Test
    void badNamesAreRefusedBeforeAnythingIsOpened() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> taps.open("a-name-of-16-byte", false));
        assertEquals("Invalid interface name 'a-name-of-16-byte': 17 bytes, but interface names have at most 15"
                + " bytes (IFNAMSIZ)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> taps.open("bad/name", false));
        assertThrows(IllegalArgumentException.class, () -> taps.open("bad name", false));
    }

    @Test
    void multiQueueTapHasOneDescriptorPerQueue() throws Exception {
        assertTrue((taps.features().orElseThrow() & TapDevices.IFF_MULTI_QUEUE) != 0, "this kernel has multiqueue taps");
        int before = PrivateNetns.openFds().size();
        List<Tap> queues = taps.openMultiQueue(null, true, 4);
        assertEquals(4, queues.size());
        String name = queues.get(0).name();
        assertTrue(name.startsWith("tap"), name);
        assertEquals(4, queues.stream().map(Tap::name).filter(name::equals).count(), "one device: " + queues);
        assertEquals(4, queues.stream().map(t -> t.fd().fd()).distinct().count(), "four descriptors: " + queues);
        assertTrue(queues.stream().allMatch(Tap::vnetHdr), queues.toString());
        assertEquals(before + 4, PrivateNetns.openFds().size());
        int flags = tunFlags(name);
        assertEquals(TapDevices.IFF_MULTI_QUEUE | 0x4000 | 0x1002, flags & (TapDevices.IFF_MULTI_QUEUE | 0x4000 | 0x1002),
                "IFF_MULTI_QUEUE|IFF_VNET_HDR|IFF_TAP|IFF_NO_PI: " + Integer.toHexString(flags));
        String details = PrivateNetns.sh("ip", "-d", "link", "show", name);
        assertTrue(details.contains("multi_queue"), details);
        queues.get(0).close();
        assertTrue(Files.exists(Path.of("/sys/class/net", name)), "the device lives while any queue is open");
        queues.forEach(Tap::close);
        assertFalse(Files.exists(Path.of("/sys/class/net", name)), "gone with its last queue");
        assertEquals(before, PrivateNetns.openFds().size());
    }

    @Test
    void multiQueueNamedAndRefusals() throws Exception {
        List<Tap> mine = taps.openMultiQueue("hvmq0", false, 2);
        try {
            assertEquals(List.of("hvmq0", "hvmq0"), mine.stream().map(Tap::name).toList());
            assertFalse(mine.get(1).vnetHdr());
            int before = PrivateNetns.openFds().size();
            // the first queue never joins a device that exists already (IFF_TUN_EXCL)
            NativeException busy = assertThrows(NativeException.class, () -> taps.openMultiQueue("hvmq0", false, 2));
            assertEquals("Failed to allocate a new TAP device: Device or resource busy (errno 16)", busy.getMessage());
            assertEquals(before, PrivateNetns.openFds().size(), "nothing left open after a refusal");
        } finally {
            mine.forEach(Tap::close);
        }
        for (int bad : new int[] {0, -1, 9, Integer.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> taps.openMultiQueue(null, true, bad));
            assertEquals("Invalid number of queues " + bad + ": a tap has 1 to 8 queues", e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> taps.openMultiQueue("bad/name", true, 2));
        List<Tap> one = taps.openMultiQueue(null, false, 1);
        try {
            assertEquals(0, tunFlags(one.get(0).name()) & TapDevices.IFF_MULTI_QUEUE, "one queue is a plain tap");
        } finally {
            one.forEach(Tap::close);
        }
    }

    @Test
    void missingCloneDevice() {
        TapDevices broken = new TunTapDevices(Path.of("/nonexistent/tun"));
        NativeException e = assertThrows(NativeException.class, () -> broken.open(null, true));
        assertEquals("Failed to open /nonexistent/tun: No such file or directory (errno 2)", e.getMessage());
        assertEquals(2, e.errno());
    }

    @Test
    void notATunDevice(@TempDir Path tmp) throws Exception {
        Path file = Files.createFile(tmp.resolve("tun"));
        TapDevices fake = new TunTapDevices(file);
        assertTrue(fake.features().isEmpty(), "TUNGETFEATURES fails on a regular file => unsupported");
        NativeException e = assertThrows(NativeException.class, () -> fake.open(null, true));
        assertTrue(e.getMessage().startsWith("Failed to allocate a new TAP device: "), e.getMessage());
    }

    /**
     * Each tap cycle registers and unregisters a net device (≈16 ms here, RCU grace periods),
     * so 10,000 cycles take minutes: {@code -Dhvkit.tapCycles=500} for a quick local run.
     */
    @Test
    void noDescriptorLeaks(@TempDir Path tmp) throws Exception {
        int cycles = Integer.getInteger("hvkit.tapCycles", 10_000);
        Path notTun = Files.createFile(tmp.resolve("tun"));
        TapDevices onFile = new TunTapDevices(notTun);
        TapDevices missing = new TunTapDevices(tmp.resolve("missing"));
        // warm up class loading and JNA before counting
        taps.open(null, true).close();
        int before = PrivateNetns.openFds().size();
        for (int i = 0; i < cycles; i++) {
            taps.open(null, i % 2 == 0).close();
        }
        for (int i = 0; i < cycles / 10; i++) {
            taps.openMultiQueue(null, i % 2 == 0, 2 + i % 7).forEach(Tap::close);
        }
        try (Tap held = taps.open("hvheld0", false)) {
            for (int i = 0; i < 100; i++) {
                assertThrows(NativeException.class, () -> taps.openMultiQueue("hvheld0", true, 3));
                assertThrows(NativeException.class, () -> missing.openMultiQueue(null, true, 3));
                assertThrows(NativeException.class, () -> onFile.openMultiQueue(null, true, 3));
            }
        }
        for (int i = 0; i < 1_000; i++) {
            switch (i % 4) {
                case 0: assertThrows(IllegalArgumentException.class, () -> taps.open("x".repeat(16), true)); break;
                case 1: assertThrows(NativeException.class, () -> missing.open(null, true)); break;
                case 2: assertThrows(NativeException.class, () -> onFile.open(null, true)); break;
                default: assertThrows(IllegalArgumentException.class, () -> taps.open("a/b", false)); break;
            }
        }
        assertEquals(before, PrivateNetns.openFds().size(), "open descriptors after " + cycles + " taps and 1,000 failures");
    }
}
