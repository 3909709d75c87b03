package org.hvkit.kvm.internal;

import static org.hvkit.kvm.internal.FaultBench.error;
import static org.hvkit.kvm.internal.FaultBench.expectError;
import static org.hvkit.kvm.internal.FaultCase.of;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceJson;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NicMode;

/**
 * Hostile files: instance files (strict, bounded), disks that are no disks, and a damaged or
 * planted runtime directory (garbage, FIFOs, links out of root.dir, read-only, full).
 */
final class FileFaults {

    private FileFaults() {
    }

    static List<FaultCase> all() {
        return List.of(
            of("J1", "instance files", "/dev/zero as the instance file", b ->
                expectError("Instance file /dev/zero is not a regular file (a character device)",
                        () -> InstanceJson.readFile(Path.of("/dev/zero"), w -> { }, false))),
            of("J2", "instance files", "a FIFO as the instance file (no hang)", b -> {
                Path fifo = fifo(b.tmp.resolve("instance.fifo"));
                b.defer(() -> Files.deleteIfExists(fifo));
                expectError("Instance file " + fifo + " is not a regular file (a FIFO)",
                        () -> InstanceJson.readFile(fifo, w -> { }, false));
            }),
            of("J3", "instance files", "a 2 MiB instance file", b -> {
                Path big = b.tmp.resolve("big.json");
                b.defer(() -> Files.deleteIfExists(big));
                Files.writeString(big, "{\"name\": \"big\", \"tags\": [\"" + "x".repeat(2 << 20) + "\"]}");
                expectError("Instance file " + big + " is too large: " + Files.size(big) + " bytes (the limit is"
                        + " 1048576 bytes)", () -> InstanceJson.readFile(big, w -> { }, false));
            }),
            of("J4", "instance files", "a misspelt top-level field", b ->
                expectError("Invalid instance definition: hvparms: unknown field (did you mean 'hvparams'?)",
                        () -> InstanceJson.read("{\"name\": \"a\", \"hvparms\": {}}"))),
            of("J5", "instance files", "a misspelt beparams field", b ->
                expectError("Invalid instance definition: beparams.memroy: unknown field (did you mean 'memory'?)",
                        () -> InstanceJson.read("{\"name\": \"a\", \"beparams\": {\"memroy\": 64}}"))),
            of("J6", "instance files", "a number where a string parameter belongs", b ->
                expectError("Parameter 'root_path' must be of type string (current value: 7, a number)",
                        () -> b.node.startInstance(InstanceJson.read("{\"name\": \"" + b.name() + "\", \"hvparams\":"
                                + " {\"root_path\": 7}}"), true))),
            of("J7", "instance files", "the same MAC twice in one instance", b ->
                expectError("Invalid instance definition: nics[1].mac: aa:00:00:00:00:01 is already used by nics[0]",
                        () -> InstanceJson.read("{\"name\": \"a\", \"nics\": [{\"mac\": \"aa:00:00:00:00:01\"},"
                                + " {\"mac\": \"aa:00:00:00:00:01\"}]}"))),
            of("J8", "instance files", "a multicast MAC", b ->
                expectError("Invalid instance definition: nics[0].mac: 01:00:5e:00:00:01 is a multicast address; a NIC"
                        + " needs a unicast MAC (lowest bit of the first octet clear)",
                        () -> InstanceJson.read("{\"name\": \"a\", \"nics\": [{\"mac\": \"01:00:5e:00:00:01\"}]}"))),
            of("J9", "instance files", "a MAC in use by a running instance of the node (at a start and a migration"
                    + " target)", b -> {
                KvmTestNode.bridge("brfault", null);
                b.defer(() -> KvmTestNode.ip("link", "del", "brfault"));
                Nic nic = new Nic("aa:00:00:00:99:01", null, NicMode.BRIDGED, "brfault");
                String first = b.name();
                String second = b.name();
                b.node.startInstance(b.guest(first).nic(nic).build(), true);
                expectError("Failed to start instance " + second + ": nics[0].mac aa:00:00:00:99:01 is already used by"
                        + " instance " + first + " (nics[0]) running on this node",
                        () -> b.node.startInstance(b.guest(second).nic(nic).build(), true));
                // a migration target applies the rule to the definition the migration info carries
                expectError("Can't accept instance " + second + ": nics[0].mac aa:00:00:00:99:01 is already used by"
                        + " instance " + first + " (nics[0]) running on this node", () -> b.node.acceptInstance(
                        b.guest(second).build(), carrying(b, b.guest(second).nic(nic).build()), "127.0.0.1"));
            }),
            of("J10", "instance files", "/dev/null as a disk", b -> disk(b, Path.of("/dev/null"),
                    "is a character device; a disk must be a block device or a regular image file")),
            of("J11", "instance files", "a disk that does not exist", b ->
                    disk(b, b.tmp.resolve("missing.img"), "does not exist")),
            of("J12", "instance files", "a FIFO as a disk", b -> {
                Path fifo = fifo(b.tmp.resolve("disk.fifo"));
                b.defer(() -> Files.deleteIfExists(fifo));
                disk(b, fifo, "is a FIFO; a disk must be a block device or a regular image file");
            }),
            of("J13", "instance files", "a directory as a disk", b -> disk(b, b.tmp,
                    "is a directory or another non-disk file; a disk must be a block device or a regular image file")),
            of("J14", "instance files", "a host system file as a disk (/etc/shadow)", b -> disk(b,
                    Path.of("/etc/shadow"), "is a host system file (/etc/shadow, under /etc); a guest must not get"
                    + " what the host uses")),
            of("J15", "instance files", "a link to a host system file as a disk", b -> {
                Path link = Files.createSymbolicLink(b.tmp.resolve("innocent.img"), Path.of("/etc/passwd"));
                b.defer(() -> Files.deleteIfExists(link));
                disk(b, link, "is a host system file (/etc/passwd, under /etc); a guest must not get what the host"
                        + " uses");
            }),
            of("J16", "instance files", "a file of the node's own root.dir as a disk (its lock)", b -> disk(b,
                    b.root.resolve("hvkit.lock"), "is a file of this node's root.dir (" + b.root.toRealPath()
                    .resolve("hvkit.lock") + "); a guest must not get what the host uses")),
            of("J17", "instance files", "the host's mounted block device as a disk", b -> {
                String[] mounted = KvmTestNode.mountedBlockDevice();
                disk(b, Path.of(mounted[0]), "(" + Path.of(mounted[0]).toRealPath() + ", device " + mounted[1]
                        + ") is mounted at " + mounted[2] + "; a guest must not get what the host uses");
            }),
            of("J18", "instance files", "another running instance's disk, named through a link", b -> {
                String owner = b.name();
                Path image = owning(b, owner);
                long pid = b.pid(owner);
                Path link = Files.createSymbolicLink(b.tmp.resolve("copied.img"), image);
                b.defer(() -> Files.deleteIfExists(link));
                String name = b.name();
                expectError("Failed to start instance " + name + ": disks[0].dev_path " + link + " is disks[0] of"
                        + " instance " + owner + " running on this node (" + image + "); two guests writing one disk"
                        + " corrupt it", () -> b.node.startInstance(b.guest(name).diskTemplate("plain")
                        .disk(new Disk(link.toString(), DiskMode.RW, 1)).build(), true));
                assertEquals(pid, b.pid(owner), "the owner's QEMU is untouched");
                assertFalse(b.node.knownInstances().contains(name), "the refused start left nothing");
            }),
            of("J19", "instance files", "one image twice in a definition (a link and the file)", b -> {
                String name = b.name();
                Path image = raw(b.tmp.resolve(name + ".img"));
                b.defer(() -> Files.deleteIfExists(image));
                Path link = Files.createSymbolicLink(b.tmp.resolve(name + "-again.img"), image);
                b.defer(() -> Files.deleteIfExists(link));
                expectError("Failed to start instance " + name + ": disks[1].dev_path " + link + " is disks[0] ("
                        + image + ") again", () -> b.node.startInstance(b.guest(name).diskTemplate("plain")
                        .disk(new Disk(image.toString(), DiskMode.RW, 1)).disk(new Disk(link.toString(), DiskMode.RW, 1))
                        .build(), true));
            }),
            of("J20", "instance files", "a loop device over another running instance's image", b -> {
                String owner = b.name();
                Path image = owning(b, owner);
                String loop = KvmTestNode.output("losetup", "--find", "--show", image.toString()).strip();
                b.defer(() -> KvmTestNode.run("losetup", "--detach", loop));
                String name = b.name();
                expectError("Failed to start instance " + name + ": disks[0].dev_path " + loop + " is disks[0] of"
                        + " instance " + owner + " running on this node (" + image + "); two guests writing one disk"
                        + " corrupt it", () -> b.node.startInstance(b.guest(name).diskTemplate("plain")
                        .disk(new Disk(loop, DiskMode.RW, 1)).build(), true));
            }),
            of("J21", "instance files", "a migration info carrying other disks, media or parameters than the instance:"
                    + " the target checks what it would launch", b -> {
                String name = b.name();
                Instance given = b.guest(name).build(); // the definition the caller passes: no disk, no CD-ROM
                String fail = "Can't accept instance " + name + ": ";
                expectError(fail + "disks[0].dev_path /etc/passwd is a host system file (/etc/passwd, under /etc); a"
                        + " guest must not get what the host uses", () -> b.node.acceptInstance(given, carrying(b,
                        b.guest(name).diskTemplate("plain").disk(new Disk("/etc/passwd", DiskMode.RW, 1)).build()),
                        "127.0.0.1"));
                expectError(fail + "cdrom_image_path /etc/shadow is a private host file (/etc/shadow, under /etc); a"
                        + " guest must not get what the host keeps private", () -> b.node.acceptInstance(given,
                        carrying(b, b.guest(name).hvparam("cdrom_image_path", "/etc/shadow").build()), "127.0.0.1"));
                expectError(fail + "the migration info's parameters: A security domain (user to run kvm as) must be"
                        + " specified", () -> b.node.acceptInstance(given, carrying(b, b.guest(name)
                        .hvparam("security_model", "user").build()), "127.0.0.1"));
                Path image = raw(b.tmp.resolve(name + ".img"));
                b.defer(() -> Files.deleteIfExists(image));
                Instance withDisk = b.guest(name).diskTemplate("plain").disk(new Disk(image.toString(), DiskMode.RW, 1))
                        .build();
                expectError(fail + "the migration info's disks [] are not the instance's [" + image + "]",
                        () -> b.node.acceptInstance(withDisk, carrying(b, given), "127.0.0.1"));
                assertFalse(b.node.knownInstances().contains(name), "nothing was launched or left");
            }),
            of("J22", "instance files", "a reboot after the disk's link was pointed at a host file: refused before the"
                    + " guest goes down", b -> {
                String name = b.name();
                Path image = raw(b.tmp.resolve(name + ".img"));
                b.defer(() -> Files.deleteIfExists(image));
                Path link = Files.createSymbolicLink(b.tmp.resolve(name + "-disk"), image);
                b.defer(() -> Files.deleteIfExists(link));
                b.node.startInstance(b.guest(name).diskTemplate("plain").disk(new Disk(link.toString(), DiskMode.RW, 1))
                        .build(), true);
                long pid = b.pid(name);
                Files.delete(link);
                Files.createSymbolicLink(link, Path.of("/etc/passwd"));
                expectError("Failed to reboot instance " + name + ": disks[0].dev_path " + link + " is a host system file"
                        + " (/etc/passwd, under /etc); a guest must not get what the host uses",
                        () -> b.node.rebootInstance(Optional.ofNullable(b.node.runningInstance(name)).orElseThrow()));
                assertEquals(pid, b.pid(name), "the guest was not taken down");
            }),
            of("P35", "parameters", "cdrom_image_path /etc/shadow: the guest's CD-ROM would be the host's secrets",
                    b -> media(b, "cdrom_image_path", Path.of("/etc/shadow"), "is a private host file (/etc/shadow,"
                    + " under /etc)")),
            of("P36", "parameters", "initrd_path a link to /etc/passwd", b -> {
                Path link = Files.createSymbolicLink(b.tmp.resolve("initrd.gz"), Path.of("/etc/passwd"));
                b.defer(() -> Files.deleteIfExists(link));
                media(b, "initrd_path", link, "is a private host file (/etc/passwd, under /etc)");
            }),
            of("P37", "parameters", "floppy_image_path a file of the node's root.dir (its lock)", b -> media(b,
                    "floppy_image_path", b.root.resolve("hvkit.lock"), "is a file of this node's root.dir ("
                    + b.root.toRealPath().resolve("hvkit.lock") + ")")),
            of("F1", "runtime state", "garbage runtime file: info, ACPI stop and cleanup still work", b -> {
                String name = b.name();
                b.node.startInstance(b.guest(name).build(), false);
                b.awaitLog(name, "GUEST-UP", Duration.ofSeconds(60));
                Path runtime = b.root.resolve("conf/" + name + ".runtime");
                Files.write(runtime, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2});
                assertEquals(InstanceState.RUNNING, Optional.ofNullable(b.node.instanceInfo(name)).orElseThrow().state());
                Instance bare = Optional.ofNullable(b.node.runningInstance(name)).orElseThrow();
                assertTrue(bare.hvparams().isEmpty(), "the definition is the name alone");
                assertTrue(b.node.verify().stream().anyMatch(p -> p.startsWith("Instance " + name + " runs, but"
                        + " Failed to load KVM runtime file " + runtime + ": ")), b.node.verify().toString());
                b.node.stopInstance(bare, false, Duration.ofSeconds(20));
                assertTrue(KvmTestNode.serialLog(b.root, name).contains("GUEST-POWERDOWN"), "stopped cleanly by ACPI");
                b.node.cleanupInstance(name);
                assertFalse(Files.exists(runtime, LinkOption.NOFOLLOW_LINKS));
            }),
            of("F2", "runtime state", "a FIFO as the runtime file (no hang)", b -> {
                String name = b.name();
                b.node.startInstance(b.guest(name).build(), true);
                Path runtime = b.root.resolve("conf/" + name + ".runtime");
                Files.delete(runtime);
                fifo(runtime);
                assertTrue(Optional.ofNullable(b.node.runningInstance(name)).orElseThrow().hvparams().isEmpty());
                assertTrue(b.node.verify().toString().contains(runtime + ": not a regular file (a device, FIFO or"
                        + " socket)"), b.node.verify().toString());
                b.node.stopInstanceByName(name);
                b.node.cleanupInstance(name);
                assertFalse(Files.exists(runtime, LinkOption.NOFOLLOW_LINKS));
            }),
            of("F3", "runtime state", "a runtime file linked to a host file is not read, and only the link goes", b -> {
                String name = b.name();
                b.node.startInstance(b.guest(name).build(), true);
                Path host = Files.writeString(b.tmp.resolve("host-secret"), "root:secret\n");
                b.defer(() -> Files.deleteIfExists(host));
                Path runtime = b.root.resolve("conf/" + name + ".runtime");
                Files.delete(runtime);
                Files.createSymbolicLink(runtime, host);
                String problems = b.node.verify().toString();
                assertTrue(problems.contains(runtime + ": not a regular file (a symbolic link)"), problems);
                assertFalse(problems.contains("secret"), "the linked file was never read");
                b.node.stopInstanceByName(name);
                b.node.cleanupInstance(name);
                assertTrue(Files.exists(host), "the link's target survives");
            }),
            of("F4", "runtime state", "a garbage pid file: not running, cleaned up", b -> {
                String name = b.name();
                Files.writeString(b.root.resolve("pid/" + name), "not a pid\n");
                assertFalse(b.node.listInstances().contains(name));
                assertTrue(b.node.knownInstances().contains(name));
                b.node.cleanupInstance(name);
                assertFalse(b.node.knownInstances().contains(name));
            }),
            of("F5", "runtime state", "a pid file naming a foreign process: never signalled", b -> {
                Process sleeper = new ProcessBuilder("sleep", "60").start();
                b.defer(sleeper::destroyForcibly);
                String name = b.name();
                Files.writeString(b.root.resolve("pid/" + name), sleeper.pid() + "\n");
                assertFalse(b.node.listInstances().contains(name));
                b.node.stopInstanceByName(name);
                b.node.cleanupInstance(name);
                assertTrue(sleeper.isAlive(), "the foreign process lives");
            }),
            of("F6", "runtime state", "conf/ replaced by a link out of root.dir: cleanup refuses", b -> {
                Path outside = Files.createDirectories(b.tmp.resolve("outside"));
                b.defer(() -> deleteTree(outside));
                String name = b.name();
                Path planted = Files.writeString(outside.resolve(name + ".runtime"), "host data");
                Path conf = b.root.resolve("conf");
                Path saved = b.root.resolve("conf.saved");
                Files.move(conf, saved);
                b.defer(() -> {
                    Files.deleteIfExists(conf);
                    Files.move(saved, conf);
                });
                Files.createSymbolicLink(conf, outside);
                // the planted file looks like the instance's state through the link, so its lock file stays
                b.defer(() -> Files.deleteIfExists(b.root.resolve("lock/" + name)));
                String msg = error(() -> b.node.cleanupInstance(name));
                assertTrue(msg.startsWith("Refusing to touch " + conf + "/" + name), msg);
                assertTrue(Files.exists(planted), "the file outside root.dir survives");
            }),
            of("F7", "runtime state", "nic/<name> planted as a link: only the link goes", b -> {
                Path outside = Files.createDirectories(b.tmp.resolve("outside"));
                b.defer(() -> deleteTree(outside));
                Path planted = Files.writeString(outside.resolve("0"), "host data");
                String name = b.name();
                Files.createSymbolicLink(b.root.resolve("nic/" + name), outside);
                b.node.cleanupInstance(name);
                assertFalse(Files.exists(b.root.resolve("nic/" + name), LinkOption.NOFOLLOW_LINKS));
                assertTrue(Files.exists(planted), "the link's target survives");
            }),
            of("F8", "runtime state", "a read-only root.dir: the start fails and leaves nothing", b -> {
                Path ro = mounted(b, "ro", "size=4m");
                KvmHypervisor hv = b.node(KvmTestNode.settings("node-ro", ro, KvmTestNode.QEMU, false, null));
                b.defer(hv::close);
                // a read-only bind mount over it: the node's own lock, open for writing, keeps the tmpfs busy
                KvmTestNode.mount("--bind", ro.toString(), ro.toString());
                b.defer(() -> KvmTestNode.run("umount", ro.toString()));
                KvmTestNode.mount("-o", "remount,bind,ro", ro.toString());
                String name = b.name();
                String msg = error(() -> hv.startInstance(KvmTestNode.guest(name, null, null).memory(64).build(), true));
                assertTrue(msg.startsWith("Cannot lock instance " + name + " (" + ro + "/lock/" + name + "): ")
                        && msg.contains("Read-only file system"), msg);
                assertEquals(List.of("hvkit.lock"), files(ro));
            }),
            of("F9", "runtime state", "a full root.dir: the start fails and leaves nothing", b -> {
                Path full = mounted(b, "full", "size=1m");
                KvmHypervisor hv = b.node(KvmTestNode.settings("node-full", full, KvmTestNode.QEMU, false, null));
                b.defer(hv::close);
                Path filler = full.resolve("filler");
                fill(filler);
                String name = b.name();
                String msg = error(() -> hv.startInstance(KvmTestNode.guest(name, null, null).memory(64).build(), true));
                assertTrue(msg.contains("No space left on device"), msg);
                Files.delete(filler);
                assertEquals(List.of("hvkit.lock"), files(full));
            }),
            of("F10", "runtime state", "the QMP socket removed under a running guest: unresponsive, then killed", b -> {
                String name = b.name();
                b.node.startInstance(b.guest(name).build(), true);
                assertEquals(InstanceState.PAUSED, Optional.ofNullable(b.node.instanceInfo(name)).orElseThrow().state());
                Files.delete(b.root.resolve("ctrl/" + name + ".qmp"));
                KvmTestNode.core(b.node).monitors().forget(name);
                assertEquals(InstanceState.UNRESPONSIVE, Optional.ofNullable(b.node.instanceInfo(name)).orElseThrow().state());
                b.node.stopInstance(Optional.ofNullable(b.node.runningInstance(name)).orElseThrow(), false, Duration.ofSeconds(2));
                assertFalse(b.node.listInstances().contains(name));
            }),
            of("F11", "runtime state", "a VNC unix socket goes with stop and cleanup", b -> {
                String name = b.name();
                Path dir = Files.createDirectories(b.tmp.resolve("vnc"));
                b.defer(() -> deleteTree(dir));
                b.node.startInstance(b.guest(name).hvparam("vnc_bind_address", dir.toString()).build(), true);
                assertTrue(Files.exists(dir.resolve(name + ".vnc")));
                b.node.stopInstanceByName(name);
                b.node.cleanupInstance(name);
                assertFalse(Files.exists(dir.resolve(name + ".vnc"), LinkOption.NOFOLLOW_LINKS));
            }),
            of("F12", "runtime state", "CPU time is QEMU's, not 0", b ->
                assertTrue(Optional.ofNullable(b.node.instanceInfo(FaultBench.BYSTANDER)).orElseThrow().cpuTimeSeconds() > 0.5,
                        "the bystander used CPU time (TCG)")),
            of("F13", "runtime state", "VNC on a unix socket with a password file starts (password over QMP)", b -> {
                String name = b.name();
                Path dir = Files.createDirectories(b.tmp.resolve("vncpw"));
                Path pw = Files.writeString(b.tmp.resolve("vnc-password"), "secret\n");
                b.defer(() -> deleteTree(dir));
                b.defer(() -> Files.deleteIfExists(pw));
                b.node.startInstance(b.guest(name).hvparam("vnc_bind_address", dir.toString())
                        .hvparam("vnc_password_file", pw.toString()).build(), true);
                assertTrue(KvmTestNode.qmp(b.node, name, "query-vnc").path("auth").asText().equals("vnc"),
                        KvmTestNode.qmp(b.node, name, "query-vnc").toString());
            }),
            of("F14", "runtime state", "a password file that is a FIFO or /dev/zero: refused, nothing hangs", b -> {
                Path dir = Files.createDirectories(b.tmp.resolve("vncpw2"));
                Path pipe = fifo(b.tmp.resolve("vnc-fifo"));
                b.defer(() -> deleteTree(dir));
                b.defer(() -> Files.deleteIfExists(pipe));
                for (Path pw : List.of(pipe, Path.of("/dev/zero"))) {
                    String name = b.name();
                    String msg = error(() -> b.node.startInstance(b.guest(name).hvparam("vnc_bind_address",
                            dir.toString()).hvparam("vnc_password_file", pw.toString()).build(), true));
                    // refused at the boundary (the parameter check); the launcher's own bounded read is the
                    // second line, for a file swapped after the check (PasswordFileTest)
                    assertTrue(msg.contains("Parameter 'vnc_password_file' fails validation: not found or not a file"),
                            msg);
                }
            }),
            of("F15", "runtime state", "a capability cache file replaced by a FIFO or a link: not read, probed again", b -> {
                Path root = b.tmp.resolve("capsroot");
                b.defer(() -> deleteTree(root));
                KvmSettings settings = KvmTestNode.settings("node-caps", root, KvmTestNode.QEMU, false, null);
                KvmHypervisor first = b.node(settings);
                first.verify(); // probes and saves the capabilities
                first.close();
                Path cache;
                try (Stream<Path> s = Files.list(root.resolve("caps"))) {
                    cache = s.filter(p -> p.toString().endsWith(".json")).findFirst().orElseThrow();
                }
                Path secret = Files.writeString(b.tmp.resolve("not-for-qemu"), "{\"format\": 1}");
                b.defer(() -> Files.deleteIfExists(secret));
                for (boolean link : new boolean[] {false, true}) {
                    Files.delete(cache);
                    if (link) {
                        Files.createSymbolicLink(cache, secret);
                    } else {
                        fifo(cache);
                    }
                    KvmHypervisor next = b.node(settings);
                    try {
                        assertEquals(List.of(), next.verify(), "the node works: capabilities probed again");
                        assertTrue(Files.isRegularFile(cache, LinkOption.NOFOLLOW_LINKS), "rewritten as a file");
                        assertEquals("{\"format\": 1}", Files.readString(secret), "the link's target untouched");
                    } finally {
                        next.close();
                    }
                }
            }),
            of("F16", "runtime state", "a garbage or forged pending hot-removals file: the successor takes nothing"
                    + " over, the guest and its NIC stay, a stop removes the file", b -> {
                Path root = b.tmp.resolve("pendroot");
                b.defer(() -> deleteTree(root));
                KvmTestNode.bridge("brpend", null);
                b.defer(() -> KvmTestNode.ip("link", "del", "brpend"));
                KvmSettings settings = KvmTestNode.settings("node-pend", root, KvmTestNode.QEMU, false, null);
                String name = b.name();
                KvmHypervisor[] node = {b.node(settings)};
                b.defer(() -> node[0].close());
                b.defer(() -> node[0].stopInstanceByName(name));
                String mac = "aa:00:00:00:99:16";
                node[0].startInstance(KvmTestNode.guest(name, null, null).memory(64)
                        .nic(new Nic(mac, null, NicMode.BRIDGED, "brpend")).build(), true);
                long pid = Optional.ofNullable(node[0].instanceInfo(name)).orElseThrow().pid();
                KvmInstances core = KvmTestNode.core(node[0]);
                Path file = core.paths().pendingFile(name);
                int slot = core.store().load(name).orElseThrow().runtime().layout().pciSlots().get("nic0");
                var files = new org.hvkit.kvm.internal.runtime.PendingRemovals(core.paths());
                for (int round = 0; round < 2; round++) {
                    if (round == 0) {
                        Files.writeString(file, "{\"pid\": " + pid + ", \"removals\": [{\"slot\": \"x\"}]}");
                    } else {
                        // well formed, but the runtime has the NIC at another slot
                        int wrong = slot + 1;
                        files.save(name, pid, List.of(new org.hvkit.kvm.internal.runtime.PendingRemovals.Removal(wrong,
                                "hotnic" + wrong, "hotnet" + wrong, org.hvkit.kvm.internal.runtime.PendingRemovals.NIC,
                                mac)));
                    }
                    node[0].close();
                    node[0] = b.node(settings);
                    KvmHotplug hotplug = node[0].hotplug();
                    assertEquals(null, hotplug.pending(name, pid, "nic0"), "round " + round + ": nothing taken over");
                    assertEquals(null, hotplug.pending(name, pid, "hotnic" + (slot + 1)));
                    assertEquals(pid, Optional.ofNullable(node[0].instanceInfo(name)).orElseThrow().pid(), "the guest runs on");
                    assertEquals(List.of(mac), Optional.ofNullable(node[0].runningInstance(name)).orElseThrow().nics()
                            .stream().map(Nic::mac).toList(), "its NIC stays");
                }
                node[0].stopInstanceByName(name);
                node[0].cleanupInstance(name);
                assertFalse(Files.exists(file, LinkOption.NOFOLLOW_LINKS), "the stop and cleanup removed the file");
            })
        );
    }

    private static void disk(FaultBench b, Path disk, String problem) throws Exception {
        String name = b.name();
        expectError("Failed to start instance " + name + ": disks[0].dev_path " + disk + " " + problem,
                () -> b.node.startInstance(b.guest(name).diskTemplate("plain").disk(new Disk(disk.toString(),
                        DiskMode.RW, 1)).build(), true));
    }

    /** Starts {@code owner} (paused) with a raw image of its own as its disk; the image. */
    /** The migration info a source (or a hostile peer) would send for {@code carried}: its runtime, rendered here. */
    private static org.hvkit.hypervisor.MigrationInfo carrying(FaultBench b, Instance carried) throws Exception {
        KvmInstances core = KvmTestNode.core(b.node);
        var hv = core.filled(carried);
        var caps = core.capabilities().of(core.launcher().builder().binary(hv));
        return new org.hvkit.hypervisor.MigrationInfo(org.hvkit.kvm.internal.runtime.RuntimeStore.serialize(
                core.launcher().builder().generate(carried, hv, caps).runtime(), carried));
    }

    private static Path owning(FaultBench b, String owner) throws Exception {
        Path image = raw(b.tmp.resolve(owner + ".img"));
        b.defer(() -> Files.deleteIfExists(image));
        b.node.startInstance(b.guest(owner).diskTemplate("plain").disk(new Disk(image.toString(), DiskMode.RW, 1))
                .build(), true);
        return image;
    }

    private static void media(FaultBench b, String parameter, Path file, String problem) throws Exception {
        String name = b.name();
        expectError("Failed to start instance " + name + ": " + parameter + " " + file + " " + problem
                + "; a guest must not get what the host keeps private",
                () -> b.node.startInstance(b.guest(name).hvparam(parameter, file.toString()).build(), true));
    }

    static Path fifo(Path p) throws Exception {
        KvmTestNode.run("mkfifo", p.toString());
        return p;
    }

    static Path raw(Path p) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        return p;
    }

    /** A tmpfs at {@code tmp/<name>} (this test JVM has a mount namespace of its own), unmounted after the case. */
    private static Path mounted(FaultBench b, String name, String options) throws Exception {
        Path dir = Files.createDirectories(b.tmp.resolve(name));
        KvmTestNode.mount("-t", "tmpfs", "-o", options, "tmpfs", dir.toString());
        b.defer(() -> Files.deleteIfExists(dir));
        b.defer(() -> KvmTestNode.run("umount", dir.toString()));
        return dir;
    }

    private static void fill(Path filler) {
        try (var out = Files.newOutputStream(filler)) {
            byte[] block = new byte[4096];
            while (true) {
                out.write(block);
            }
        } catch (IOException full) {
            // the file system is full now
        }
    }

    private static List<String> files(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> !Files.isDirectory(p)).map(p -> root.relativize(p).toString()).sorted().toList();
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
