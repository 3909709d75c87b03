package org.hvkit.kvm.internal.params;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import org.hvkit.hypervisor.ParameterException;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.caps.QmpFacts;
import org.junit.jupiter.api.Test;

/** machine_version and disk_aio io_uring against what the binary said about itself. */
class BinaryChecksTest {

    private static QemuCapabilities qemu(int major, int minor, Set<String> aioModes) {
        QemuCapabilities help = new QemuCapabilities(major + "." + minor + ".0", major, minor, 0,
                EnumSet.noneOf(org.hvkit.kvm.internal.caps.QemuFeature.class));
        return help.withQmp(new QmpFacts(major, minor, 0, "", Set.of("query-machines"),
                Map.of("pc", "pc-i440fx-7.2", "pc-i440fx-7.2", "pc-i440fx-7.2", "q35", "pc-q35-7.2",
                        "pc-q35-7.2", "pc-q35-7.2"), "pc-i440fx-7.2", Set.of(), Map.of(), false, aioModes));
    }

    private static ParameterException refused(Map<String, ?> hv, QemuCapabilities caps) {
        return assertThrows(ParameterException.class, () -> BinaryChecks.validate(hv, caps));
    }

    @Test
    void machineVersionMustBeOneOfTheBinarysTypesOrAliases() {
        QemuCapabilities caps = qemu(7, 2, Set.of("threads", "native"));
        assertDoesNotThrow(() -> BinaryChecks.validate(Map.of("machine_version", ""), caps));
        assertDoesNotThrow(() -> BinaryChecks.validate(Map.of("machine_version", "q35"), caps));
        assertDoesNotThrow(() -> BinaryChecks.validate(Map.of("machine_version", "pc-i440fx-7.2"), caps));
        ParameterException e = refused(Map.of("machine_version", "pc-i440fx-9.9"), caps);
        assertEquals("machine_version", e.parameter());
        assertEquals("Unsupported machine version: pc-i440fx-9.9 (this QEMU has: pc, pc-i440fx-7.2, pc-q35-7.2, q35)",
                e.getMessage());
        // no QMP facts (QEMU before 1.2): QEMU itself refuses an unknown type at start
        QemuCapabilities old = new QemuCapabilities("1.0.0", 1, 0, 0,
                EnumSet.noneOf(org.hvkit.kvm.internal.caps.QemuFeature.class));
        assertDoesNotThrow(() -> BinaryChecks.validate(Map.of("machine_version", "pc-9.9"), old));
    }

    @Test
    void ioUringNeedsABinaryBuiltWithIt() {
        Map<String, ?> hv = Map.of("disk_aio", "io_uring");
        assertDoesNotThrow(() -> BinaryChecks.validate(hv, qemu(7, 2, Set.of("threads", "native", "io_uring"))));
        ParameterException e = refused(hv, qemu(7, 2, Set.of("threads", "native")));
        assertEquals("disk_aio", e.parameter());
        assertEquals("disk_aio io_uring: this QEMU 7.2 was built without io_uring; its aio modes: native, threads",
                e.getMessage());
        // modes not known (no query-qmp-schema): Ganeti 3.1's rule, QEMU 5.0 or later
        assertDoesNotThrow(() -> BinaryChecks.validate(hv, qemu(5, 0, Set.of())));
        assertEquals("At least QEMU 5.0 required to use 'disk_aio=io_uring' (this is 4.2)",
                refused(hv, qemu(4, 2, Set.of())).getMessage());
        // the other modes are not the binary's business here
        assertDoesNotThrow(() -> BinaryChecks.validate(Map.of("disk_aio", "native"), qemu(4, 2, Set.of())));
    }
}
