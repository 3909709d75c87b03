package org.hvkit.hypervisor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;

/**
 * Ganeti's CPU mask syntax ({@code utils.ParseCpuMask} and {@code utils.ParseMultiCpuMask} in
 * Ganeti 3.0's {@code lib/utils/__init__.py}), used by the {@code cpu_mask} parameter: a single
 * mask is a comma-separated list of CPU numbers and ranges ({@code 0-2,5}); a multiple mask is
 * a colon-separated list of single masks or {@code all} ({@code 0-2,5:all:3}), one per vCPU, or
 * one for all vCPUs.
 *
 * <p>hvkit is stricter than Python's {@code int()}: numbers are plain decimal digits (no sign,
 * no blanks), an empty part of a multiple mask is refused, and a CPU number is at most {@link #MAX_CPU} (Linux' largest {@code NR_CPUS} is
 * 8192), so that a hostile {@code 0-2000000000} cannot make a list of two billion entries.
 * Since 1.3.
 */
public final class CpuMasks {

    /** The largest CPU number a mask may name. */
    public static final int MAX_CPU = 8191;
    /** What {@code all} becomes in a parsed multiple mask (Ganeti's {@code CPU_PINNING_ALL_VAL}). */
    public static final int ALL = -1;
    /** Ganeti's {@code CPU_PINNING_ALL}: the default {@code cpu_mask}, no pinning. */
    public static final String ALL_TEXT = "all";

    private CpuMasks() {
    }

    /**
     * Parses a single mask into its CPU numbers in the given order ({@code 0-2,5} is [0, 1, 2, 5]).
     *
     * @throws IllegalArgumentException saying what is wrong (empty item, two hyphens, a bad
     *                                  number, a descending range, a number above {@link #MAX_CPU})
     */
    public static List<Integer> parse(String mask) {
        if (mask.isEmpty()) {
            return List.of();
        }
        List<Integer> cpus = new ArrayList<>();
        for (String range : mask.split(",", -1)) {
            String[] bounds = range.split("-", -1);
            if (bounds.length > 2) {
                throw new IllegalArgumentException("Invalid CPU ID range definition (only one hyphen allowed): " + range);
            }
            int lower = number(bounds[0], "lower");
            int higher = number(bounds[bounds.length - 1], "higher");
            if (lower > higher) {
                throw new IllegalArgumentException("Invalid CPU ID range definition (" + lower + " > " + higher + "): "
                        + range);
            }
            for (int cpu = lower; cpu <= higher; cpu++) {
                cpus.add(cpu);
            }
        }
        return cpus;
    }

    /**
     * Parses a multiple mask: one sorted list of distinct CPUs per colon-separated part,
     * {@code [ALL]} for {@code all} ({@code 0-2,5:all} is [[0, 1, 2, 5], [-1]]).
     *
     * @throws IllegalArgumentException as {@link #parse}
     */
    public static List<List<Integer>> parseMulti(String mask) {
        if (mask.isEmpty()) {
            return List.of();
        }
        List<List<Integer>> masks = new ArrayList<>();
        for (String part : mask.split(":", -1)) {
            if (ALL_TEXT.equals(part)) {
                masks.add(List.of(ALL));
            } else if (part.isEmpty()) {
                // Ganeti reads an empty part as an empty mask; hvkit refuses it (a CPU set of nothing)
                throw new IllegalArgumentException("Empty CPU mask between colons");
            } else {
                masks.add(List.copyOf(new TreeSet<>(parse(part))));
            }
        }
        return Collections.unmodifiableList(masks);
    }

    /** Ganeti's {@code _IsMultiCpuMaskWellFormed}: {@link #parseMulti} accepts the value. */
    public static boolean isMultiMask(Object value) {
        if (!(value instanceof String)) {
            return false;
        }
        try {
            parseMulti((String) value);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static int number(String text, String which) {
        if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("Invalid CPU ID value for " + which + " boundary of CPU ID range: '"
                    + Texts.escape(Texts.truncate(text)) + "'");
        }
        int n = Integer.parseInt(text);
        if (n > MAX_CPU) {
            throw new IllegalArgumentException("CPU ID " + n + " is above " + MAX_CPU);
        }
        return n;
    }
}
