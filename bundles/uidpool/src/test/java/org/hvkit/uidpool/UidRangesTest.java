package org.hvkit.uidpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** Ganeti's {@code ganeti.uidpool_unittest} ({@code test/py/legacy/ganeti.uidpool_unittest.py}) plus edge cases. */
class UidRangesTest {

    private static UidRange r(long l, long h) {
        return new UidRange(l, h);
    }

    @Test
    void parseUidPool() throws UidPoolException {
        assertEquals(List.of(r(1, 100), r(200, 200)), UidRanges.parse("1-100,200,", ","));
        assertEquals(List.of(r(1000, 1000), r(2000, 2500)), UidRanges.parse("1000:2000-2500", ":"));
        assertEquals(List.of(r(1000, 1000), r(2000, 2500)), UidRanges.parse("1000\n2000-2500", "\n"));
    }

    @Test
    void checkUidPool() throws UidPoolException {
        for (List<UidRange> bad : List.of(List.of(r(0, 0)), List.of(r(11, 11)), List.of(r(2, 1)))) {
            assertThrows(UidPoolException.class, () -> UidRanges.check(bad, 1, 10), bad.toString());
        }
        UidRanges.check(List.of(r(1, 10)), 1, 10);
        assertEquals("Lower user-id range boundary value (2) is larger than higher boundary value (1)",
                assertThrows(UidPoolException.class, () -> UidRanges.check(List.of(r(2, 1)))).getMessage());
        assertEquals("Lower user-id range boundary value (0) is smaller than UIDPOOL_UID_MIN (1).",
                assertThrows(UidPoolException.class, () -> UidRanges.check(List.of(r(0, 0)), 1, 10)).getMessage());
        assertEquals("Higher user-id boundary value (4294967296) is larger than UIDPOOL_UID_MAX (4294967295).",
                assertThrows(UidPoolException.class, () -> UidRanges.check(List.of(r(1, 4294967296L)))).getMessage());
    }

    @Test
    void formatUidPool() {
        List<UidRange> pool = List.of(r(1, 100), r(200, 200));
        assertEquals("1-100, 200", UidRanges.format(pool));
        assertEquals("1-100:200", UidRanges.format(pool, ":"));
        assertEquals("1-100\n200", UidRanges.format(pool, "\n"));
    }

    @Test
    void formatIsAcceptedByParse() throws UidPoolException {
        List<UidRange> pool = List.of(r(5, 9), r(4000, 4019), r(4100, 4100));
        assertEquals(pool, UidRanges.parse(UidRanges.format(pool), ", ".trim()));
        assertEquals(pool, UidRanges.parse(UidRanges.format(pool)));
        assertEquals(pool, UidRanges.parse(UidRanges.format(pool, "\n"), "\n"));
    }

    @Test
    void parseErrors() {
        assertEquals("Invalid user-id range definition. Only one hyphen allowed: ['1', '2', '3']",
                assertThrows(UidPoolException.class, () -> UidRanges.parse("1-2-3")).getMessage());
        assertEquals("Invalid user-id value for lower boundary of user-id range: invalid literal for int() with base"
                + " 10: ''", assertThrows(UidPoolException.class, () -> UidRanges.parse("-5")).getMessage());
        assertEquals("Invalid user-id value for higher boundary of user-id range: invalid literal for int() with base"
                + " 10: 'x'", assertThrows(UidPoolException.class, () -> UidRanges.parse("4-x")).getMessage());
        assertThrows(UidPoolException.class, () -> UidRanges.parse("abc"));
    }

    @Test
    void whitespaceOverlapsAndLimits() throws UidPoolException {
        assertEquals(List.of(r(1, 5), r(3, 8), r(3, 8)), UidRanges.parse(" 3 - 8 ,1-5, 3-8"), "overlaps kept as given");
        assertEquals(6, UidRanges.size(UidRanges.parse("1-5,3-6")) , "distinct uids counted once");
        assertEquals(Set.of(1L, 2L, 3L, 4L, 5L, 6L), UidRanges.expand(UidRanges.parse("1-5,3-6")));
        List<UidRange> limits = UidRanges.parse("0, 4294967295");
        UidRanges.check(limits);
        assertEquals(List.of(r(0, 0), r(4294967295L, 4294967295L)), limits);
        assertThrows(UidPoolException.class, () -> UidRanges.check(UidRanges.parse("4294967296")));
        assertThrows(UidPoolException.class, () -> UidRanges.check(UidRanges.parse("99999999999999999999999")));
        assertThrows(IllegalArgumentException.class, () -> UidRanges.expand(UidRanges.parse("0-4294967295")));
        assertEquals(4294967296L, UidRanges.size(UidRanges.parse("0-4294967295")));
    }

    @Test
    void addAndRemove() throws UidPoolException {
        List<UidRange> pool = List.of(r(1, 10));
        assertEquals(List.of(r(1, 10), r(5, 20)), UidRanges.add(pool, List.of(r(5, 20), r(1, 10))),
                "identical pairs are not added twice; overlaps are not merged");
        assertEquals(List.of(), UidRanges.remove(pool, List.of(r(1, 10))));
        assertEquals("User-id range to be removed is not found in the current user-id pool: (2, 3)",
                assertThrows(UidPoolException.class, () -> UidRanges.remove(pool, List.of(r(2, 3)))).getMessage());
    }
}
