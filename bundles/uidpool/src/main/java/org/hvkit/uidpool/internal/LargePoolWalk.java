package org.hvkit.uidpool.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;

import org.hvkit.uidpool.UidRange;

/**
 * Candidate order for pools too large to shuffle: every distinct uid once, starting at a
 * random position and wrapping around, skipping the taken ones; then the taken ones.
 */
final class LargePoolWalk implements Iterator<Long> {

    private final List<UidRange> merged;
    private final Set<Long> taken;
    private final Iterator<Long> stale;
    private final long total;
    private long offset;
    private long visited;
    private Long next;

    LargePoolWalk(List<UidRange> ranges, Set<Long> taken, long seed, List<Long> stale) {
        this.merged = merge(ranges);
        this.taken = taken;
        this.stale = stale.iterator();
        long t = 0;
        for (UidRange r : merged) {
            t += r.size();
        }
        this.total = t;
        this.offset = Math.floorMod(seed, Math.max(1, t));
    }

    private static List<UidRange> merge(List<UidRange> ranges) {
        List<UidRange> sorted = new ArrayList<>();
        for (UidRange r : ranges) {
            if (r.size() > 0) {
                sorted.add(r);
            }
        }
        Collections.sort(sorted);
        List<UidRange> out = new ArrayList<>();
        for (UidRange r : sorted) {
            if (!out.isEmpty() && r.lower() <= out.get(out.size() - 1).higher() + 1) {
                UidRange last = out.remove(out.size() - 1);
                out.add(new UidRange(last.lower(), Math.max(last.higher(), r.higher())));
            } else {
                out.add(r);
            }
        }
        return out;
    }

    private long uidAt(long index) {
        for (UidRange r : merged) {
            if (index < r.size()) {
                return r.lower() + index;
            }
            index -= r.size();
        }
        throw new IllegalStateException("index beyond the pool");
    }

    @Override
    public boolean hasNext() {
        while (next == null) {
            if (visited < total) {
                long uid = uidAt((offset + visited) % total);
                visited++;
                if (!taken.contains(uid)) {
                    next = uid;
                }
            } else if (stale.hasNext()) {
                next = stale.next();
            } else {
                return false;
            }
        }
        return true;
    }

    @Override
    public Long next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Long n = next;
        next = null;
        return n;
    }
}
