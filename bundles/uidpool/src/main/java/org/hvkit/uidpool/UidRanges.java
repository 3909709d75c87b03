package org.hvkit.uidpool;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Ganeti's uid pool syntax ({@code lib/uidpool.py}, {@code ParseUidPool}, {@code CheckUidPool}):
 * comma- (or newline-) separated items, each {@code n} or {@code l-h}, inclusive. Parsing keeps overlaps and
 * duplicates and does not check order or limits; {@link #check} does.
 */
public final class UidRanges {

    /** Ganeti's {@code UIDPOOL_UID_MIN}. */
    public static final long UID_MIN = 0;
    /** Ganeti's {@code UIDPOOL_UID_MAX} (2^32 - 1). */
    public static final long UID_MAX = 4294967295L;
    /** Pools up to this many distinct uids can be {@link #expand expanded}. */
    public static final long MAX_EXPAND = 1 << 20;

    private static final Pattern DIGITS = Pattern.compile("\\d+");

    private UidRanges() {
    }

    /** Parses a pool written with commas and/or newlines, e.g. {@code "4000-4019, 4100"}. */
    public static List<UidRange> parse(String value) throws UidPoolException {
        return parse(value.replace('\n', ','), ",");
    }

    /**
     * Ganeti's {@code ParseUidPool(value, separator)}: empty items are skipped (a trailing
     * separator is fine), whitespace around numbers is tolerated, the result is sorted.
     */
    public static List<UidRange> parse(String value, String separator) throws UidPoolException {
        List<UidRange> ranges = new ArrayList<>();
        for (String item : value.split(Pattern.quote(separator), -1)) {
            if (item.isEmpty()) {
                continue;
            }
            String[] parts = item.split("-", -1);
            if (parts.length > 2) {
                throw new UidPoolException("Invalid user-id range definition. Only one hyphen allowed: "
                        + pythonList(parts));
            }
            long lower = number(parts[0], "lower");
            long higher = number(parts[parts.length - 1], "higher");
            ranges.add(new UidRange(lower, higher));
        }
        Collections.sort(ranges);
        return ranges;
    }

    private static long number(String text, String boundary) throws UidPoolException {
        String t = text.strip();
        if (!DIGITS.matcher(t).matches()) {
            throw new UidPoolException("Invalid user-id value for " + boundary + " boundary of user-id range: "
                    + "invalid literal for int() with base 10: '" + text + "'");
        }
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            // more digits than a long holds: certainly above UID_MAX, which check() reports
            return Long.MAX_VALUE;
        }
    }

    private static String pythonList(String[] parts) {
        return "[" + java.util.Arrays.stream(parts).map(p -> "'" + p + "'").collect(Collectors.joining(", ")) + "]";
    }

    /** Ganeti's {@code CheckUidPool}: every range ordered and within {@link #UID_MIN}..{@link #UID_MAX}. */
    public static void check(List<UidRange> pool) throws UidPoolException {
        check(pool, UID_MIN, UID_MAX);
    }

    /** {@link #check(List)} against other limits (Ganeti's tests patch them to 1..10). */
    public static void check(List<UidRange> pool, long min, long max) throws UidPoolException {
        for (UidRange r : pool) {
            if (r.lower() > r.higher()) {
                throw new UidPoolException("Lower user-id range boundary value (" + r.lower()
                        + ") is larger than higher boundary value (" + r.higher() + ")");
            }
            if (r.lower() < min) {
                throw new UidPoolException("Lower user-id range boundary value (" + r.lower()
                        + ") is smaller than UIDPOOL_UID_MIN (" + min + ").");
            }
            if (r.higher() > max) {
                throw new UidPoolException("Higher user-id boundary value (" + r.higher()
                        + ") is larger than UIDPOOL_UID_MAX (" + max + ").");
            }
        }
    }

    /** Ganeti's {@code FormatUidPool}: {@code n} or {@code l-h}, joined by {@code separator}. */
    public static String format(List<UidRange> pool, String separator) {
        return pool.stream().map(UidRange::toString).collect(Collectors.joining(separator));
    }

    /** {@link #format} with Ganeti's default separator {@code ", "}. */
    public static String format(List<UidRange> pool) {
        return format(pool, ", ");
    }

    /** Ganeti's {@code AddToUidPool}: appends ranges not already present as identical pairs; sorted. */
    public static List<UidRange> add(List<UidRange> pool, List<UidRange> ranges) {
        List<UidRange> out = new ArrayList<>(pool);
        for (UidRange r : ranges) {
            if (!out.contains(r)) {
                out.add(r);
            }
        }
        Collections.sort(out);
        return out;
    }

    /** Ganeti's {@code RemoveFromUidPool}: removes identical pairs only; a missing one is an error. */
    public static List<UidRange> remove(List<UidRange> pool, List<UidRange> ranges) throws UidPoolException {
        List<UidRange> out = new ArrayList<>(pool);
        for (UidRange r : ranges) {
            if (!out.remove(r)) {
                throw new UidPoolException("User-id range to be removed is not found in the current user-id pool: ("
                        + r.lower() + ", " + r.higher() + ")");
            }
        }
        return out;
    }

    /** The number of distinct uids in the pool (overlaps counted once). */
    public static long size(List<UidRange> pool) {
        long total = 0;
        long end = -1;
        List<UidRange> sorted = new ArrayList<>(pool);
        Collections.sort(sorted);
        for (UidRange r : sorted) {
            if (r.size() == 0) {
                continue;
            }
            long from = Math.max(r.lower(), end + 1);
            if (r.higher() >= from) {
                total += r.higher() - from + 1;
                end = r.higher();
            }
        }
        return total;
    }

    /**
     * Ganeti's {@code ExpandUidPool}: the distinct uids of the pool.
     *
     * @throws IllegalArgumentException when the pool has more than {@link #MAX_EXPAND} uids
     */
    public static Set<Long> expand(List<UidRange> pool) {
        long n = size(pool);
        if (n > MAX_EXPAND) {
            throw new IllegalArgumentException("the pool has " + n + " uids; expanding more than " + MAX_EXPAND
                    + " is refused");
        }
        Set<Long> uids = new LinkedHashSet<>();
        for (UidRange r : pool) {
            for (long u = r.lower(); u <= r.higher(); u++) {
                uids.add(u);
            }
        }
        return uids;
    }
}
