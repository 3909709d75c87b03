package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Ganeti's CPU mask syntax and the 1.3 generic checks. */
class CpuMasksTest {

    @Test
    void singleMasks() {
        assertEquals(List.of(0, 1, 2, 5), CpuMasks.parse("0-2,5"));
        assertEquals(List.of(), CpuMasks.parse(""));
        assertEquals(List.of(3, 3), CpuMasks.parse("3,3"), "order and repetition kept, as Ganeti's ParseCpuMask");
    }

    @Test
    void multipleMasksAreSortedAndDistinctPerPart() {
        assertEquals(List.of(List.of(0, 1, 2, 5), List.of(CpuMasks.ALL), List.of(1, 5, 6), List.of(2)),
                CpuMasks.parseMulti("0-2,5:all:6,5,1,5:2"));
        assertEquals(List.of(List.of(CpuMasks.ALL)), CpuMasks.parseMulti("all"));
    }

    @Test
    void badMasksSayWhy() {
        assertEquals("Invalid CPU ID range definition (only one hyphen allowed): 1-2-3",
                assertThrows(IllegalArgumentException.class, () -> CpuMasks.parse("1-2-3")).getMessage());
        assertEquals("Invalid CPU ID range definition (5 > 2): 5-2",
                assertThrows(IllegalArgumentException.class, () -> CpuMasks.parse("5-2")).getMessage());
        assertEquals("Invalid CPU ID value for lower boundary of CPU ID range: 'x'",
                assertThrows(IllegalArgumentException.class, () -> CpuMasks.parse("x-2")).getMessage());
        assertEquals("CPU ID 8192 is above 8191",
                assertThrows(IllegalArgumentException.class, () -> CpuMasks.parse("0-8192")).getMessage());
        for (String bad : new String[] {"0-2000000000", "-1", "+1", " 1", "1,", "0::1", "all,1", "1:"}) {
            assertFalse(CpuMasks.isMultiMask(bad), bad);
        }
        assertTrue(CpuMasks.isMultiMask("0-8191:all"));
    }

    @Test
    void genericChecksOfGaneti30() {
        assertTrue(ParameterCheck.OPT_FILE_OR_URL_CHECK.syntax().test("https://example.com/a.iso"));
        assertTrue(ParameterCheck.OPT_FILE_OR_URL_CHECK.syntax().test("/srv/a.iso"));
        assertFalse(ParameterCheck.OPT_FILE_OR_URL_CHECK.syntax().test("file:///srv/a.iso"));
        assertTrue(ParameterCheck.OPT_FILE_OR_URL_CHECK.node().test("ftp://example.com/a.iso"));
        assertFalse(ParameterCheck.OPT_FILE_OR_URL_CHECK.node().test("/nonexistent/a.iso"));
        assertTrue(ParameterCheck.OPT_NONNEGATIVE_INT_CHECK.syntax().test(0L));
        assertFalse(ParameterCheck.OPT_NONNEGATIVE_INT_CHECK.syntax().test(-1L));
        assertFalse(ParameterCheck.OPT_VIRTIO_NET_QUEUES_CHECK.syntax().test(9L));
        assertTrue(ParameterCheck.OPT_VIRTIO_NET_QUEUES_CHECK.syntax().test(8L));
        assertFalse(ParameterCheck.OPT_VIRTIO_NET_QUEUES_CHECK.syntax().test(-3L));
        assertFalse(ParameterCheck.OPT_MULTI_CPU_MASK_CHECK.syntax().test("0-"));
    }
}
