package org.hvkit.kvm.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where this node lets an instance's disks come from, besides what {@link HostUse} refuses
 * anyway: {@code devices} are the block devices of this machine's hardware an instance may get
 * (node key {@code disk.host.devices}), {@code fileDirs} the directories under which a disk
 * that is a regular file may lie, its real path counting (node key {@code disk.file.dirs}).
 * Ganeti keeps file-based disks under its file storage directories and refuses others
 * ({@code CheckFileStoragePathAcceptance} against {@code /etc/ganeti/file-storage-paths});
 * hvkit's hypervisor layer gets any path from an instance definition, so it applies the same
 * kind of allow-list itself.
 */
record HostDisks(Set<Path> devices, Set<Path> fileDirs) {

    /**
     * Ganeti's configure defaults for {@code --with-file-storage-dir} and
     * {@code --with-shared-file-storage-dir} ({@code /srv/ganeti/file-storage},
     * {@code /srv/ganeti/shared-file-storage}; lib/pathutils.py's {@code DEFAULT_FILE_STORAGE_DIR}
     * and {@code DEFAULT_SHARED_FILE_STORAGE_DIR}).
     */
    static final Set<Path> GANETI_FILE_DIRS = Set.of(Path.of("/srv/ganeti/file-storage"),
            Path.of("/srv/ganeti/shared-file-storage"));

    /** No hardware disk; regular-file disks under Ganeti's file storage directories. */
    static final HostDisks DEFAULTS = new HostDisks(Set.of(), GANETI_FILE_DIRS);

    HostDisks {
        devices = Set.copyOf(devices);
        fileDirs = Set.copyOf(fileDirs);
    }

    HostDisks withDevices(Set<Path> others) {
        return new HostDisks(others, fileDirs);
    }

    HostDisks withFileDirs(Set<Path> dirs) {
        return new HostDisks(devices, dirs);
    }

    /**
     * Why a regular file at real path {@code real} may not be a disk — it lies under none of
     * {@link #fileDirs} (each compared by its own real path when it exists) — or null.
     */
    String outsideFileDirs(Path real) {
        for (Path dir : fileDirs) {
            Path d;
            try {
                d = dir.toRealPath();
            } catch (IOException e) {
                d = dir; // a directory that does not exist holds no file; its name cannot match a real path's
            }
            if (real.startsWith(d)) {
                return null;
            }
        }
        return "is a regular file (" + real + ") outside every directory of the node key disk.file.dirs ("
                + String.join(", ", new TreeSet<>(fileDirs.stream().map(Path::toString).toList()))
                + "); list its directory there to give it to a guest";
    }
}
