package org.hvkit.kvm.internal.caps;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** The captured and synthetic {@code --help} outputs under {@code src/test/resources/help/}. */
public final class HelpFixtures {

    private HelpFixtures() {
    }

    public static String help(String name) {
        try (InputStream in = HelpFixtures.class.getResourceAsStream("/help/" + name + ".txt")) {
            if (in == null) {
                throw new IllegalArgumentException("no help fixture " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static QemuCapabilities capabilities(String name) {
        return QemuCapabilities.parse(help(name));
    }
}
