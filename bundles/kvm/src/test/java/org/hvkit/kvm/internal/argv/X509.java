package org.hvkit.kvm.internal.argv;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.hvkit.netdev.SpawnRequest;
import org.hvkit.netdev.SpawnResult;
import org.hvkit.netdev.internal.PosixSpawner;

/** A throw-away CA and server certificate in the layout QEMU's tls-creds-x509 reads. */
final class X509 {

    private X509() {
    }

    static Path selfSigned(Path dir, PosixSpawner spawner) throws Exception {
        Files.createDirectories(dir);
        String d = dir.toString();
        run(spawner, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=hvkit-test-ca",
                "-keyout", d + "/ca-key.pem", "-out", d + "/ca-cert.pem");
        run(spawner, "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                "-keyout", d + "/server-key.pem", "-out", d + "/server.csr");
        run(spawner, "openssl", "x509", "-req", "-days", "1", "-in", d + "/server.csr", "-CA", d + "/ca-cert.pem",
                "-CAkey", d + "/ca-key.pem", "-CAcreateserial", "-out", d + "/server-cert.pem");
        return dir;
    }

    private static void run(PosixSpawner spawner, String... argv) throws Exception {
        SpawnResult r = spawner.run(SpawnRequest.of(List.of(argv)), Duration.ofSeconds(60));
        if (!r.succeeded()) {
            throw new IllegalStateException(String.join(" ", argv) + ": " + r.output());
        }
    }
}
