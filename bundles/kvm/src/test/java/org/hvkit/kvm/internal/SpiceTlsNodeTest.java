package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.ParameterException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code spice_use_tls} on a node: its certificate files must be configured and readable before anything runs. */
class SpiceTlsNodeTest {

    @TempDir
    Path tmp;
    Path root;

    @BeforeEach
    void setUp() {
        KvmTestNode.requireRealQemu();
        root = tmp.resolve("kvm");
    }

    private static Map<String, Object> tls(KvmHypervisor kvm) throws Exception {
        Instance guest = KvmTestNode.guest("tls1", null, null).hvparam("spice_bind", "127.0.0.1")
                .hvparam("spice_use_tls", true).networkPort(5931).build();
        return KvmTestNode.core(kvm).filled(guest);
    }

    @Test
    void aNodeWithoutCertificatesRefusesTls() throws Exception {
        KvmHypervisor kvm = KvmTestNode.node(KvmTestNode.settings("node-a", root, KvmTestNode.QEMU, false, null));
        try {
            ParameterException e = assertThrows(ParameterException.class, () -> kvm.validateParameters(tls(kvm)));
            assertEquals("spice_use_tls", e.parameter());
            assertEquals("spice_use_tls true: SPICE over TLS needs the node's SPICE certificate files, and this node"
                    + " has none (set spice.certificate and spice.ca.certificate in its configuration), or set"
                    + " spice_use_tls to false", e.getMessage().substring(e.getMessage().indexOf("spice_use_tls true")));
        } finally {
            kvm.close();
        }
    }

    @Test
    void certificateFilesMustBeReadableFiles() throws Exception {
        Path cert = Files.writeString(tmp.resolve("spice.pem"), "-----BEGIN PRIVATE KEY-----\n");
        Path ca = tmp.resolve("missing-ca.pem");
        KvmHypervisor kvm = KvmTestNode.node(KvmTestNode.settings("node-a", root, KvmTestNode.QEMU, false, null)
                .withSpiceCertificates(cert, ca));
        try {
            ParameterException e = assertThrows(ParameterException.class, () -> kvm.validateParameters(tls(kvm)));
            assertEquals("spice_use_tls", e.parameter());
            assertEquals("spice_use_tls true: the node's spice.ca.certificate " + ca + " is not a readable file",
                    e.getMessage().substring(e.getMessage().indexOf("spice_use_tls true")));
            Files.writeString(ca, "-----BEGIN CERTIFICATE-----\n");
            kvm.validateParameters(tls(kvm));
        } finally {
            kvm.close();
        }
    }
}
