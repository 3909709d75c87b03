package org.hvkit.fake.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import org.hvkit.hypervisor.AtomicFiles;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceJson;
import org.hvkit.hypervisor.InstanceState;
import org.hvkit.hypervisor.ParameterException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One state file per running instance, {@code <dir>/<name>.json}, written atomically (temp
 * file, fsync, rename) so that a crash or a bundle stop never leaves half a file. The files
 * are the only state: a new bundle (or a restarted one) adopts whatever is there.
 */
final class FakeStateStore {

    private static final Logger LOG = LoggerFactory.getLogger(FakeStateStore.class);
    private static final String SUFFIX = ".json";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Path dir;

    FakeStateStore(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    /** Creates the directory if needed; fails with the path and the reason. */
    void ensureDirectory() throws IOException {
        Files.createDirectories(dir);
        if (!Files.isWritable(dir)) {
            throw new IOException("state directory " + dir + " is not writable");
        }
    }

    /** The state file of {@code name}; the hypervisor checks names first, this is the last guard. */
    private Path file(String name) {
        if (!Instance.isValidName(name)) {
            throw new IllegalArgumentException("not a valid instance name: " + name);
        }
        return dir.resolve(name + SUFFIX);
    }

    /** The names of all state files, readable or not; files whose name is no instance name are skipped. */
    List<String> names() throws HypervisorException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                String name = n.substring(0, n.length() - SUFFIX.length());
                if (Instance.isValidName(name)) {
                    names.add(name);
                }
            }
        } catch (NoSuchFileException e) {
            return names;
        } catch (IOException e) {
            throw new HypervisorException("Cannot list fake instances in " + dir + ": " + e.getMessage(), e);
        }
        names.sort(null);
        return names;
    }

    /** The state of {@code name}; empty when absent or unreadable (unreadable files are logged). */
    Optional<FakeState> read(String name) {
        Path f = file(name);
        String text;
        try {
            text = Files.readString(f, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            LOG.warn("Cannot read fake instance state {}: {}", f, e.toString());
            return Optional.empty();
        }
        try {
            JsonNode root = MAPPER.readTree(text);
            // lenient: state written by another version of this bundle is still adopted
            Instance instance = InstanceJson.fromTree(root.path("instance"), w -> LOG.debug("{}: {}", f, w), true);
            InstanceState state = InstanceState.valueOf(root.path("state").asText("RUNNING").toUpperCase(Locale.ROOT));
            return Optional.of(new FakeState(instance, state, root.path("started").asLong(0)));
        } catch (IOException | ParameterException | IllegalArgumentException e) {
            LOG.warn("Ignoring corrupt fake instance state {}: {}", f, e.getMessage());
            return Optional.empty();
        }
    }

    void write(FakeState s) throws HypervisorException {
        ObjectNode root = MAPPER.createObjectNode();
        root.set("instance", InstanceJson.toTree(s.instance()));
        root.put("state", s.state().name().toLowerCase(Locale.ROOT));
        root.put("started", s.startedMillis());
        Path target = file(s.instance().name());
        try {
            AtomicFiles.write(target, MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        } catch (IOException e) {
            throw new HypervisorException("Cannot write fake instance state " + target + ": " + e.getMessage(), e);
        }
    }

    /** Removes the state of {@code name}; returns whether there was one. */
    boolean delete(String name) throws HypervisorException {
        try {
            return Files.deleteIfExists(file(name));
        } catch (IOException e) {
            throw new HypervisorException("Cannot remove fake instance state " + file(name) + ": " + e.getMessage(), e);
        }
    }
}
