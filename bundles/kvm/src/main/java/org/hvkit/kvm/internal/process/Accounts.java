package org.hvkit.kvm.internal.process;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.hvkit.netdev.NativeException;
import org.hvkit.netdev.ProcessSpawner;
import org.hvkit.netdev.SpawnRequest;
import org.hvkit.netdev.SpawnResult;

/** passwd lookups through {@code getent}, so users from NSS (LDAP …) count, not only /etc/passwd. */
public final class Accounts {

    private final ProcessSpawner spawner;

    public Accounts(ProcessSpawner spawner) {
        this.spawner = spawner;
    }

    /** The passwd entry's fields for a user name or a numeric uid, empty when there is none. */
    private Optional<String[]> lookup(String key) {
        try {
            SpawnResult r = spawner.run(new SpawnRequest(List.of("getent", "passwd", key),
                    Map.of("PATH", "/usr/bin:/bin", "LC_ALL", "C"), Path.of("/"), List.of()), Duration.ofSeconds(10));
            if (!r.succeeded() || r.stdout().isBlank()) {
                return Optional.empty();
            }
            return Optional.of(r.stdout().lines().findFirst().orElse("").split(":"));
        } catch (NativeException e) {
            return Optional.empty();
        }
    }

    public boolean userExists(String name) {
        return !name.isEmpty() && !name.chars().allMatch(Character::isDigit) && lookup(name).isPresent();
    }

    /** The user name of {@code uid} (QEMU's -runas takes a name). */
    public Optional<String> userName(long uid) {
        return lookup(Long.toString(uid)).map(f -> f[0]);
    }
}
