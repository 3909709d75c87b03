package org.hvkit.hypervisor;

import java.util.Collection;
import java.util.Locale;

/**
 * Text helpers shared by the SPI's validators (not API): quoting untrusted values in messages,
 * finding control characters and suggesting the nearest known name.
 */
final class Texts {

    /** How many characters of an untrusted value a message quotes. */
    static final int QUOTE_LIMIT = 64;

    private Texts() {
    }

    /**
     * {@code s} with every character that could garble a terminal or a log line written as
     * <code>&#92;uXXXX</code> (control and format characters, line separators, lone surrogates)
     * and backslashes doubled, so that the escaped text is unambiguous.
     */
    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                out.append("\\\\");
            } else if (needsEscape(s, i)) {
                out.append(String.format("\\u%04X", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean needsEscape(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
        }
        if (Character.isLowSurrogate(c)) {
            return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
        }
        int type = Character.getType(c);
        return Character.isISOControl(c) || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                || type == Character.PARAGRAPH_SEPARATOR;
    }

    /**
     * {@code s} escaped (see {@link #escape}) between single quotes; longer than
     * {@link #QUOTE_LIMIT} characters, the first ones followed by {@code ... (N characters)}.
     * Null is {@code null}, without quotes.
     */
    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        if (s.length() <= QUOTE_LIMIT) {
            return "'" + escape(s) + "'";
        }
        return "'" + escape(s.substring(0, QUOTE_LIMIT)) + "'... (" + s.length() + " characters)";
    }

    /** {@code s} cut to {@link #QUOTE_LIMIT} characters followed by {@code ...} when longer. */
    static String truncate(String s) {
        return s.length() > QUOTE_LIMIT ? s.substring(0, QUOTE_LIMIT) + "..." : s;
    }

    /** The index of the first character U+0000–U+001F or U+007F in {@code s}, or -1. */
    static int controlCharIndex(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return i;
            }
        }
        return -1;
    }

    /** {@code contains a control character (U+0000 at offset 5)}, or null when {@code s} has none. */
    static String controlCharProblem(String s) {
        int i = controlCharIndex(s);
        return i < 0 ? null
                : String.format("contains a control character (U+%04X at offset %d)", (int) s.charAt(i), i);
    }

    /**
     * {@code " (did you mean 'x'?)"} for the known name nearest to {@code unknown} by edit
     * distance (a transposition counts as one edit) when it is close enough to be a typo;
     * otherwise the empty string. Ties go to the first in {@code known}'s order.
     */
    static String didYouMean(String unknown, Collection<String> known) {
        int limit = unknown.length() <= 3 ? 1 : unknown.length() <= 7 ? 2 : 3;
        String best = null;
        int bestDistance = limit + 1;
        for (String k : known) {
            if (Math.abs(k.length() - unknown.length()) >= bestDistance) {
                continue;
            }
            int d = distance(unknown.toLowerCase(Locale.ROOT), k.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best == null ? "" : " (did you mean '" + best + "'?)";
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions, adjacent transpositions. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                int v = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    v = Math.min(v, d[i - 2][j - 2] + 1);
                }
                d[i][j] = v;
            }
        }
        return d[a.length()][b.length()];
    }
}
