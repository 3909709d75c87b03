package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.DiskMode;
import org.hvkit.hypervisor.HypervisorException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host-file rules of the review of session 8: the allow-list of regular-file disks (node key
 * {@code disk.file.dirs}), the private directories of the media a guest reads, and a
 * {@code kvm_extra} from an instance definition ({@code kvm_extra.from.instances}). Pure unit
 * tests on real files; KvmHostFilesTest refuses a real start.
 */
class DiskFileDirsTest {

    private static final String FAIL = "Failed to start instance x: ";

    @TempDir
    Path tmp;

    private static void disk(Path path, Path root, HostDisks allowed) throws HypervisorException {
        StartChecks.disk(new Disk(path.toString(), DiskMode.RW, 0), FAIL, "disks[0].dev_path " + path, root, allowed);
    }

    @Test
    void aFileDiskOutsideTheListedDirectoriesIsRefusedNamingFieldRealPathAndKey() throws Exception {
        Path allowedDir = Files.createDirectories(tmp.resolve("file-storage"));
        Path outside = Files.writeString(Files.createDirectories(tmp.resolve("elsewhere")).resolve("x.img"), "disk");
        Path inside = Files.writeString(Files.createDirectories(allowedDir.resolve("inst1")).resolve("disk0"), "disk");
        Path root = tmp.resolve("kvm");
        HostDisks allowed = new HostDisks(Set.of(), Set.of(allowedDir));

        disk(inside, root, allowed);   // inside: accepted
        HypervisorException e = assertThrows(HypervisorException.class, () -> disk(outside, root, allowed));
        assertEquals(FAIL + "disks[0].dev_path " + outside + " is a regular file (" + outside.toRealPath()
                + ") outside every directory of the node key disk.file.dirs (" + allowedDir + "); list its directory"
                + " there to give it to a guest", e.getMessage());

        // a link inside the directory that points outside: what counts is what QEMU would open
        Path link = Files.createSymbolicLink(allowedDir.resolve("escape.img"), outside);
        e = assertThrows(HypervisorException.class, () -> disk(link, root, allowed));
        assertEquals(FAIL + "disks[0].dev_path " + link + " is a regular file (" + outside.toRealPath()
                + ") outside every directory of the node key disk.file.dirs (" + allowedDir + "); list its directory"
                + " there to give it to a guest", e.getMessage());

        // a link outside pointing inside is the file inside
        disk(Files.createSymbolicLink(tmp.resolve("in.img"), inside), root, allowed);
        // a listed directory reached through a link counts by its real path
        Path dirLink = Files.createSymbolicLink(tmp.resolve("storage-link"), allowedDir);
        disk(inside, root, new HostDisks(Set.of(), Set.of(dirLink)));
        // Ganeti's defaults allow neither
        e = assertThrows(HypervisorException.class, () -> disk(inside, root, HostDisks.DEFAULTS));
        assertEquals(FAIL + "disks[0].dev_path " + inside + " is a regular file (" + inside.toRealPath()
                + ") outside every directory of the node key disk.file.dirs (/srv/ganeti/file-storage,"
                + " /srv/ganeti/shared-file-storage); list its directory there to give it to a guest", e.getMessage());
        // a sibling whose name merely starts with the directory's is outside
        Path sibling = Files.writeString(Files.createDirectories(tmp.resolve("file-storage-2")).resolve("d"), "disk");
        assertThrows(HypervisorException.class, () -> disk(sibling, root, allowed));
    }

    @Test
    void aHotAddAndAMigrationTargetApplyTheSameList() throws Exception {
        Path allowedDir = Files.createDirectories(tmp.resolve("file-storage"));
        Path outside = Files.writeString(tmp.resolve("x.img"), "disk");
        HostDisks allowed = new HostDisks(Set.of(), Set.of(allowedDir));
        String why = " is a regular file (" + outside.toRealPath() + ") outside every directory of the node key"
                + " disk.file.dirs (" + allowedDir + "); list its directory there to give it to a guest";
        try (DiskChecks checks = new DiskChecks(name -> java.util.OptionalLong.empty())) {
            org.hvkit.hypervisor.Instance current = org.hvkit.hypervisor.Instance.builder("x").build();
            HypervisorException e = assertThrows(HypervisorException.class, () -> checks.checkAdded(current,
                    new Disk(outside.toString(), DiskMode.RW, 0), "dev_path " + outside, tmp.resolve("kvm"), allowed,
                    "Failed to hot-add a disk to instance x: ", Map.of()));
            assertEquals("Failed to hot-add a disk to instance x: dev_path " + outside + why, e.getMessage());
            org.hvkit.hypervisor.Instance incoming = org.hvkit.hypervisor.Instance.builder("x")
                    .disk(new Disk(outside.toString(), DiskMode.RW, 0)).build();
            e = assertThrows(HypervisorException.class, () -> checks.check(incoming, Map.of(), tmp.resolve("kvm"),
                    allowed, "Can't accept instance x: ", Map.of()));
            assertEquals("Can't accept instance x: disks[0].dev_path " + outside + why, e.getMessage());
        }
    }

    @Test
    void theSystemAndRootDirRulesStillRefuseInsideAListedDirectory() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("kvm"));
        Path lock = Files.writeString(root.resolve("hvkit.lock"), "");
        HostDisks everything = new HostDisks(Set.of(), Set.of(Path.of("/")));
        HypervisorException e = assertThrows(HypervisorException.class, () -> disk(lock, root, everything));
        assertEquals(FAIL + "disks[0].dev_path " + lock + " is a file of this node's root.dir (" + lock.toRealPath()
                + "); a guest must not get what the host uses", e.getMessage());
        e = assertThrows(HypervisorException.class, () -> disk(Path.of("/etc/passwd"), root, everything));
        assertEquals(FAIL + "disks[0].dev_path /etc/passwd is a host system file (/etc/passwd, under /etc); a guest"
                + " must not get what the host uses", e.getMessage());
    }

    @Test
    void aBlockDeviceIsNotSubjectToTheDirectoryList() throws Exception {
        // a device node (as root) of loop device 7:200: a virtual device nothing mounts, outside every listed dir
        Path node = tmp.resolve("loop200");
        KvmTestNode.run("mknod", node.toString(), "b", "7", "200");
        disk(node, tmp.resolve("kvm"), new HostDisks(Set.of(), Set.of()));
    }

    @Test
    void theNodeKeyListsAbsoluteDirectoriesAndNamesItselfWhenWrong() {
        assertEquals(Set.of(Path.of("/srv/a"), Path.of("/srv/b")), KvmSettings.fileDirs(" /srv/a, /srv/b ,"));
        assertEquals(HostDisks.GANETI_FILE_DIRS, KvmSettings.fileDirs(null), "unset: Ganeti's file storage dirs");
        assertEquals(Set.of(), KvmSettings.fileDirs("  "), "blank: no file disk at all");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KvmSettings.fileDirs("/srv/a,images"));
        assertEquals(KvmNode.PID + ": disk.file.dirs must be an absolute normalized path, got 'images'",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> KvmSettings.fileDirs("/srv/a/../../etc"));
        assertEquals(KvmNode.PID + ": disk.file.dirs must be an absolute normalized path, got '/srv/a/../../etc'",
                e.getMessage());
        String many = IntStream.range(0, 65).mapToObj(i -> "/srv/d" + i).collect(Collectors.joining(","));
        e = assertThrows(IllegalArgumentException.class, () -> KvmSettings.fileDirs(many));
        assertEquals(KvmNode.PID + ": disk.file.dirs lists 65 directories; at most 64", e.getMessage());
    }

    @Test
    void mediaUnderTheHostsStateDirectoriesOrKeptFromItsUsersAreRefusedBootAndUsrAreNot() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("kvm"));
        assertEquals(java.util.List.of("/dev", "/etc", "/proc", "/sys", "/run", "/var/lib/ganeti", "/var/spool",
                "/var/log"), HostUse.PRIVATE_DIRS);
        // the directories that exist on this machine (Debian: all but /var/lib/ganeti on a node without Ganeti)
        for (String dir : new String[] {"/run", "/var/spool", "/var/log"}) {
            Path link = Files.createSymbolicLink(tmp.resolve("m" + dir.replace('/', '-')), Path.of(dir));
            assertEquals("is a private host file (" + Path.of(dir).toRealPath() + ", under " + dir + ")",
                    HostUse.privateFile(link, root), dir);
        }
        // a key anywhere (a home directory, a checkout): kept from other users, so no guest's
        Path key = Files.writeString(tmp.resolve("id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\n");
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path hv = Files.createSymbolicLink(tmp.resolve("initrd.img"), key);
        HypervisorException e = assertThrows(HypervisorException.class,
                () -> StartChecks.media(Map.of("initrd_path", hv.toString()), root, FAIL));
        assertEquals(FAIL + "initrd_path " + hv + " is a private host file (" + key.toRealPath() + ", mode 0600: not"
                + " readable by every user); a guest must not get what the host keeps private", e.getMessage());
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(null, HostUse.privateFile(hv, root), "readable by every user: an image, not a secret");
        assertEquals(null, HostUse.privateFile(Path.of("/boot"), root), "a host kernel may lie in /boot");
        assertEquals(null, HostUse.privateFile(Path.of("/usr/bin/env"), root), "an ISO of a package under /usr");
        assertEquals(null, HostUse.privateFile(Files.createDirectories(tmp.resolve("run-not")), root),
                "a name that merely starts like a private directory");
    }

    @Test
    void kvmExtraFromAnInstanceNeedsTheNodeKeyTheNodesOwnDefaultPasses() throws Exception {
        Map<String, Object> node = Map.of("kvm_extra", "-device virtio-rng-pci");
        Map<String, Object> none = Map.of("kvm_extra", "");
        HypervisorException e = assertThrows(HypervisorException.class,
                () -> StartChecks.kvmExtra(Map.of("kvm_extra", "-drive file=/dev/sda"), none, false, FAIL));
        assertEquals(FAIL + "kvm_extra '-drive file=/dev/sda' is not this node's default (hvparam.kvm_extra ''): raw"
                + " QEMU arguments from an instance definition are refused unless the node key kvm_extra.from.instances"
                + " is true", e.getMessage());
        assertThrows(HypervisorException.class,
                () -> StartChecks.kvmExtra(Map.of("kvm_extra", "-device virtio-rng-pci -drive file=/x"), node, false,
                        FAIL));
        StartChecks.kvmExtra(Map.of("kvm_extra", "-drive file=/dev/sda"), none, true, FAIL);  // the node allows it
        StartChecks.kvmExtra(Map.of("kvm_extra", " -device\tvirtio-rng-pci "), node, false, FAIL);  // the node's own
        StartChecks.kvmExtra(Map.of("kvm_extra", ""), node, false, FAIL);  // none: adds nothing
        StartChecks.kvmExtra(Map.of("acpi", true), none, false, FAIL);   // not set by the instance
    }
}
