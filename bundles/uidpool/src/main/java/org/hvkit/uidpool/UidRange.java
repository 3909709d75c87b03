package org.hvkit.uidpool;

/**
 * An inclusive range of uids; a single uid is {@code (n, n)}. Construction does not check
 * {@code lower <= higher} or the limits: like Ganeti, parsing keeps what was written and
 * {@link UidRanges#check} judges it.
 */
public record UidRange(long lower, long higher) implements Comparable<UidRange> {

    public static UidRange of(long uid) {
        return new UidRange(uid, uid);
    }

    /** Number of uids in the range (0 when inverted). */
    public long size() {
        return higher < lower ? 0 : higher - lower + 1;
    }

    public boolean contains(long uid) {
        return uid >= lower && uid <= higher;
    }

    @Override
    public int compareTo(UidRange o) {
        int c = Long.compare(lower, o.lower);
        return c != 0 ? c : Long.compare(higher, o.higher);
    }

    /** Ganeti's format: {@code n} or {@code l-h}. */
    @Override
    public String toString() {
        return lower == higher ? Long.toString(lower) : lower + "-" + higher;
    }
}
