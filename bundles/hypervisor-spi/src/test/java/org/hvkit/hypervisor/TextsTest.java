package org.hvkit.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;

import org.junit.jupiter.api.Test;

class TextsTest {

    @Test
    void escapeLeavesPrintableTextAlone() {
        assertEquals("web1.example.com caf\u00e9 \ud83d\ude00", Texts.escape("web1.example.com caf\u00e9 \ud83d\ude00"));
    }

    @Test
    void escapeMakesInvisibleCharactersVisible() {
        assertEquals("a\\u0000b\\u000A\\u001B\\u007F\\u0085", Texts.escape("a\u0000b\n\u001b\u007f\u0085"));
        assertEquals("\\u202E\\u200B\\u2028", Texts.escape("\u202e\u200b\u2028"), "bidi, zero width, line separator");
        assertEquals("\\uD83D.\\uDE00", Texts.escape("\ud83d.\ude00"), "lone surrogates");
        assertEquals("C:\\\\x", Texts.escape("C:\\x"), "backslashes are doubled");
    }

    @Test
    void quoteTruncatesLongText() {
        assertEquals("'abc'", Texts.quote("abc"));
        assertEquals("null", Texts.quote(null));
        assertEquals("'" + "x".repeat(64) + "'", Texts.quote("x".repeat(64)));
        assertEquals("'" + "x".repeat(64) + "'... (65 characters)", Texts.quote("x".repeat(65)));
    }

    @Test
    void controlCharacters() {
        assertNull(Texts.controlCharProblem("panic=-1 console=ttyS0 caf\u00e9 \u0085"), "only U+0000-U+001F and U+007F");
        assertEquals("contains a control character (U+0000 at offset 5)", Texts.controlCharProblem("panic\u0000x"));
        assertEquals("contains a control character (U+0009 at offset 0)", Texts.controlCharProblem("\tx\n"));
        assertEquals("contains a control character (U+007F at offset 2)", Texts.controlCharProblem("ab\u007f"));
        assertEquals("contains a control character (U+001F at offset 1)", Texts.controlCharProblem("a\u001f"));
        assertNull(Texts.controlCharProblem(" ~"), "U+0020 and U+007E are printable");
    }

    @Test
    void distanceCountsTranspositionsOnce() {
        assertEquals(1, Texts.distance("memroy", "memory"));
        assertEquals(1, Texts.distance("kernel_pat", "kernel_path"));
        assertEquals(1, Texts.distance("nicparms", "nicparams"));
        assertEquals(0, Texts.distance("", ""));
        assertEquals(3, Texts.distance("abc", ""));
        assertEquals(3, Texts.distance("kitten", "sitting"));
    }

    @Test
    void suggestionsOnlyForCloseNames() {
        List<String> known = List.of("memory", "maxmem", "minmem", "vcpus");
        assertEquals(" (did you mean 'memory'?)", Texts.didYouMean("memroy", known));
        assertEquals(" (did you mean 'memory'?)", Texts.didYouMean("MEMORY", known));
        assertEquals(" (did you mean 'vcpus'?)", Texts.didYouMean("cpus", known));
        assertEquals("", Texts.didYouMean("os", List.of("ip", "name", "uuid")), "two edits in two letters is no typo");
        assertEquals(" (did you mean 'ip'?)", Texts.didYouMean("iq", List.of("ip", "name")));
        assertEquals("", Texts.didYouMean("spindles", known));
        assertEquals("", Texts.didYouMean("m".repeat(100_000), known));
        assertEquals(" (did you mean 'maxmem'?)", Texts.didYouMean("maxmen", known), "the nearest wins");
        assertEquals(" (did you mean 'minmem'?)", Texts.didYouMean("minmen", known), "the nearest wins");
        assertEquals(" (did you mean 'maxmem'?)", Texts.didYouMean("mixmem", known), "ties go to the first known");
        assertEquals(" (did you mean 'minmem'?)", Texts.didYouMean("mixmem", List.of("minmem", "maxmem")));
    }
}
