package org.hvkit.kvm.internal.params;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.LinkedHashMap;
import java.util.Map;

import org.hvkit.hypervisor.ParameterCheck;
import org.hvkit.hypervisor.ParameterSpec;
import org.junit.jupiter.api.Test;

/**
 * SPI 2.0 (issue #16): KVM's whole parameter catalogue and defaults, what a remote caller's
 * {@code parameters()} and {@code defaults()} answer, cross a wire and come back equal.
 */
class KvmParametersWireTest {

    @Test
    @SuppressWarnings("unchecked")
    void catalogueAndDefaultsRoundTrip() throws Exception {
        Map<String, ParameterSpec> specs = new LinkedHashMap<>(KvmParameters.PARAMETERS);
        Map<String, ParameterSpec> back = (Map<String, ParameterSpec>) roundTrip(specs);
        assertEquals(specs.keySet(), back.keySet());
        for (ParameterSpec s : specs.values()) {
            ParameterSpec b = back.get(s.name());
            assertEquals(s.check().label(), b.check().label(), s.name());
            assertEquals(s.check().syntaxText(), b.check().syntaxText(), s.name());
            assertEquals(s.check().nodeText(), b.check().nodeText(), s.name());
            assertEquals(s.defaultValue(), b.defaultValue(), s.name());
            assertEquals(s.global(), b.global(), s.name());
        }
        assertSame(ParameterCheck.NET_PORT_CHECK, back.get(KvmParameters.MIGRATION_PORT).check());
        assertEquals(new LinkedHashMap<>(KvmParameters.DEFAULTS), roundTrip(new LinkedHashMap<>(KvmParameters.DEFAULTS)));
    }

    private static Object roundTrip(Object value) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return in.readObject();
        }
    }
}
