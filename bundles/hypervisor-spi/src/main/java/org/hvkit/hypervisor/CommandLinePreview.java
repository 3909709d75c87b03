package org.hvkit.hypervisor;

import java.io.Serializable;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Optional capability of a {@link Hypervisor} service that runs a command per instance: the
 * exact argv {@link Hypervisor#startInstance} would execute, without starting anything
 * (descriptors it would hand over appear as the numbers the child would get). Since 1.1.
 */
@ProviderType
public interface CommandLinePreview {

    /** The argv for {@code instance} (filled hvparams), as one list element per argument. */
    List<String> previewCommand(Instance instance) throws HypervisorException;

    /**
     * The argv for {@code instance} (as {@link #previewCommand}) together with the warnings a
     * real start would log for it (e.g. a questionable parameter combination). The default
     * returns {@link #previewCommand}'s argv and no warnings; providers that know their
     * warnings override it. Since 1.2.
     */
    default CommandLine preview(Instance instance) throws HypervisorException {
        return new CommandLine(previewCommand(instance), List.of());
    }

    /**
     * A previewed command line: the argv, one element per argument, and the warnings a real
     * start would log, in order. Immutable and serializable (lists of strings only). Since 1.2.
     *
     * @param argv     the arguments, the program first
     * @param warnings what a start would warn about; empty when nothing
     */
    record CommandLine(List<String> argv, List<String> warnings) implements Serializable {

        private static final long serialVersionUID = 1L;

        /** Copies both lists; neither they nor their elements may be null. */
        public CommandLine {
            argv = List.copyOf(argv);
            warnings = List.copyOf(warnings);
        }
    }
}
