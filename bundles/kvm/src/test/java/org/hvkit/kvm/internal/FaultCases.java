package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.FaultBench.error;
import static org.hvkit.kvm.internal.FaultBench.expectError;
import static org.hvkit.kvm.internal.FaultCase.of;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;

/**
 * The fault table: names and injection here, the other categories in {@link ParameterFaults},
 * {@link FileFaults}, {@link ProcessFaults}, {@link ConcurrencyFaults} and {@link LiveFaults}.
 */
final class FaultCases {

    /** {@code Instance.requireValidName}'s rule, as every refusal states it. */
    static final String NAME_RULE = "1-63 characters: letters, digits, '.', '_', '-', starting with a letter or digit;"
            + " every label between dots is non-empty and starts with a letter or digit";

    private FaultCases() {
    }

    static List<FaultCase> all() {
        List<FaultCase> all = new ArrayList<>();
        all.addAll(names());
        all.addAll(injection());
        all.addAll(ParameterFaults.all());
        all.addAll(FileFaults.all());
        all.addAll(ProcessFaults.all());
        all.addAll(ConcurrencyFaults.all());
        all.addAll(LiveFaults.all());
        return all;
    }

    static String invalidName(String shown) {
        return "Invalid instance name '" + shown + "': " + NAME_RULE;
    }

    private static List<FaultCase> names() {
        return List.of(
            of("N1", "names", "cleanup of ../../srv/victim deletes nothing outside root.dir", b -> {
                // where the unvalidated name used to point: conf/../../srv/victim.runtime and its siblings
                Path srv = Files.createDirectories(b.tmp.resolve("srv"));
                List<Path> victims = List.of(srv.resolve("victim.runtime"), srv.resolve("victim.qmp"),
                        srv.resolve("victim.monitor"), srv.resolve("victim.serial.log"),
                        Files.createDirectories(srv.resolve("victim")).resolve("data"));
                for (Path v : victims) {
                    Files.writeString(v, "host data");
                }
                b.defer(() -> FileFaults.deleteTree(srv));
                expectError(invalidName("../../srv/victim"), () -> b.node.cleanupInstance("../../srv/victim"));
                for (Path v : victims) {
                    assertTrue(Files.exists(v), v + " survives");
                }
            }),
            of("N2", "names", "stop by name of a traversal name signals nothing", b -> {
                Process sleeper = new ProcessBuilder("sleep", "60").start();
                b.defer(sleeper::destroyForcibly);
                Path srv = Files.createDirectories(b.tmp.resolve("srv"));
                b.defer(() -> FileFaults.deleteTree(srv));
                Files.writeString(srv.resolve("victim"), Long.toString(sleeper.pid()));
                expectError(invalidName("../../srv/victim"), () -> b.node.stopInstanceByName("../../srv/victim"));
                assertTrue(sleeper.isAlive(), "the process named by the planted pid file lives");
            }),
            of("N3", "names", "info of a name with a slash", b ->
                expectError(invalidName("a/b"), () -> b.node.instanceInfo("a/b"))),
            of("N4", "names", "running definition of a name with a NUL", b ->
                expectError(invalidName("x\\u0000y"), () -> b.node.runningInstance("x\u0000y"))),
            of("N5", "names", "serial socket and log of '..'", b -> {
                expectError(invalidName(".."), () -> b.node.serialSocket(".."));
                expectError(invalidName(".."), () -> b.node.serialLog(".."));
            }),
            of("N6", "names", "a 300-character name is refused and quoted short", b -> {
                String msg = error(() -> b.node.cleanupInstance("a".repeat(300)));
                assertTrue(msg.startsWith("Invalid instance name 'aaaa") && msg.contains("(300 characters)")
                        && msg.length() < 400, msg);
            }),
            of("N7", "names", "empty and dotted names", b -> {
                expectError(invalidName(""), () -> b.node.cleanupInstance(""));
                expectError(invalidName("."), () -> b.node.stopInstanceByName("."));
                expectError(invalidName("a..b"), () -> b.node.instanceInfo("a..b"));
            }),
            of("N8", "names", "cleanup of a name that never existed is a quiet no-op at the SPI", b -> {
                String name = b.name();
                b.node.cleanupInstance(name);
                assertFalse(b.node.knownInstances().contains(name));
            })
        );
    }

    private static List<FaultCase> injection() {
        return List.of(
            of("I1", "injection", "a disk path with ',readonly=on' opens that very file read-write", b -> {
                String name = b.name();
                Path evil = FileFaults.raw(b.tmp.resolve(name + ".img,readonly=on"));
                Path decoy = FileFaults.raw(b.tmp.resolve(name + ".img"));
                b.defer(() -> Files.deleteIfExists(evil));
                b.defer(() -> Files.deleteIfExists(decoy));
                b.node.startInstance(b.guest(name).diskTemplate("plain")
                        .disk(new Disk(evil.toString(), DiskMode.RW, 1)).build(), true);
                JsonNode disk = block(b, name, "virtio");
                assertEquals(evil.toString(), disk.path("inserted").path("file").asText());
                assertFalse(disk.path("inserted").path("ro").asBoolean(), "the injected readonly=on did not apply");
            }),
            of("I2", "injection", "a cdrom path with ',format=qcow2' opens that very file as raw", b -> {
                String name = b.name();
                Path iso = FileFaults.raw(b.tmp.resolve(name + ".iso,format=qcow2"));
                b.defer(() -> Files.deleteIfExists(iso));
                b.node.startInstance(b.guest(name).hvparam("cdrom_image_path", iso.toString()).build(), true);
                JsonNode cd = block(b, name, "ide");
                assertEquals(iso.toString(), cd.path("inserted").path("file").asText());
                assertEquals("raw", cd.path("inserted").path("drv").asText());
            }),
            of("I3", "injection", "a VNC directory with ',websocket=on' gets a socket, no websocket port", b -> {
                String name = b.name();
                Path dir = Files.createDirectories(b.tmp.resolve("vnc,websocket=on"));
                b.defer(() -> FileFaults.deleteTree(dir));
                b.node.startInstance(b.guest(name).hvparam("vnc_bind_address", dir.toString()).build(), true);
                assertTrue(Files.exists(dir.resolve(name + ".vnc")), "the VNC socket is in the comma directory");
                String tcp = Files.readString(Path.of("/proc/net/tcp")) + Files.readString(Path.of("/proc/net/tcp6"));
                assertFalse(tcp.contains(":1644 "), "nothing listens on QEMU's websocket port 5700");
            }),
            of("I4", "injection", "a NUL in kernel_args", b ->
                expectError("Parameter 'kernel_args' contains a control character (U+0000 at offset 5); not allowed"
                        + " in values that reach QEMU's command line", () -> b.node.startInstance(
                        b.guest(b.name()).hvparam("kernel_args", "panic\u0000=1").build(), true))),
            of("I5", "injection", "a newline in kernel_args", b ->
                expectError("Parameter 'kernel_args' contains a control character (U+000A at offset 8); not allowed"
                        + " in values that reach QEMU's command line", () -> b.node.startInstance(
                        b.guest(b.name()).hvparam("kernel_args", "panic=-1\ninit=/bin/sh").build(), true))),
            of("I6", "injection", "200 KiB of kernel_args says what is too long", b -> {
                String name = b.name();
                String args = "x".repeat(200 * 1024);
                int appendLength = ("root=/dev/ram0 " + args + " console=ttyS0,38400").length();
                expectError("Failed to start instance " + name + ": the value of -append is " + appendLength
                        + " bytes long; Linux passes at most 131071 bytes per argument (from kernel_args (with"
                        + " root_path))", () -> b.node.startInstance(b.guest(name).hvparam("kernel_args", args)
                        .build(), true));
            }),
            of("I7", "injection", "a security domain with a comma is no user", b ->
                expectError("Unknown security domain user nobody,x", () -> b.node.startInstance(b.guest(b.name())
                        .hvparam("security_model", "user").hvparam("security_domain", "nobody,x").build(), true))),
            of("I8", "injection", "root.dir with a comma: the serial log and sockets work", b -> {
                String name = b.name();
                b.node.startInstance(b.guest(name).build(), false);
                b.awaitLog(name, "GUEST-UP", Duration.ofSeconds(60));
                assertTrue(b.root.toString().contains(","), "the bench's root.dir has a comma");
                assertTrue(b.node.serialSocket(name).isPresent());
            }),
            of("I9", "injection", "a 200-character root.dir: start, QMP, serial, ACPI stop, cleanup", b -> {
                Path deep = b.tmp.resolve("d".repeat(100)).resolve("e".repeat(100));
                b.defer(() -> FileFaults.deleteTree(b.tmp.resolve("d".repeat(100))));
                assertTrue(deep.toString().length() >= 200, deep.toString());
                KvmHypervisor hv = b.node(KvmTestNode.settings("node-deep", deep, KvmTestNode.QEMU, false, null));
                b.defer(hv::close);
                String name = b.name();
                b.defer(() -> hv.stopInstanceByName(name));
                hv.startInstance(KvmTestNode.guest(name, null, null).memory(128).build(), false);
                KvmTestNode.awaitLog(deep, name, "GUEST-UP", Duration.ofSeconds(60));
                assertEquals("RUNNING", Optional.ofNullable(hv.instanceInfo(name)).orElseThrow().state().name());
                assertTrue(hv.serialSocket(name).orElseThrow().toString().length() > 107);
                hv.stopInstance(Optional.ofNullable(hv.runningInstance(name)).orElseThrow(), false, Duration.ofSeconds(20));
                assertTrue(KvmTestNode.serialLog(deep, name).contains("GUEST-POWERDOWN"), "ACPI reached the guest");
                hv.cleanupInstance(name);
            })
        );
    }

    /** The {@code query-block} entry of the instance's first device on {@code bus} with a medium. */
    static JsonNode block(FaultBench b, String name, String bus) throws Exception {
        for (JsonNode d : KvmTestNode.qmp(b.node, name, "query-block")) {
            if (d.path("qdev").asText().contains(bus) || d.path("device").asText().contains(bus)) {
                if (d.has("inserted") && !d.path("inserted").path("file").asText().contains("instance-disks")) {
                    return d;
                }
            }
        }
        String all = KvmTestNode.qmp(b.node, name, "query-block").toString();
        throw new AssertionError("no " + bus + " block device with a medium: " + all);
    }
}
