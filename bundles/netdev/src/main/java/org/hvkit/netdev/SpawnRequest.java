package org.hvkit.netdev;

import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What to run: an argv (never a shell string), the complete environment, a working directory,
 * and the descriptors the child inherits. Every other descriptor is closed in the child;
 * stdin is {@code /dev/null}, stdout and stderr are captured.
 *
 * @param argv        program and arguments; a program without '/' is looked up in the
 *                    environment's PATH
 * @param environment the child's whole environment
 * @param workDir     the child's working directory
 * @param fds         descriptors to hand over, at distinct child numbers ≥ 3
 */
public record SpawnRequest(List<String> argv, Map<String, String> environment, Path workDir, List<FdMapping> fds) {

    public SpawnRequest {
        argv = List.copyOf(argv);
        if (argv.isEmpty() || argv.get(0).isEmpty()) {
            throw new IllegalArgumentException("argv needs at least the program");
        }
        environment = Collections.unmodifiableMap(new LinkedHashMap<>(environment));
        Objects.requireNonNull(workDir, "workDir");
        fds = List.copyOf(fds);
        Set<Integer> seen = new HashSet<>();
        for (FdMapping m : fds) {
            if (!seen.add(m.childFd())) {
                throw new IllegalArgumentException("child descriptor " + m.childFd() + " mapped twice");
            }
        }
    }

    /** Runs {@code argv} in {@code /} with this process's environment and no extra descriptors. */
    public static SpawnRequest of(List<String> argv) {
        return new SpawnRequest(argv, System.getenv(), Path.of("/"), List.of());
    }

    public SpawnRequest withEnvironment(Map<String, String> env) {
        return new SpawnRequest(argv, env, workDir, fds);
    }

    public SpawnRequest withFds(List<FdMapping> mappings) {
        return new SpawnRequest(argv, environment, workDir, mappings);
    }
}
