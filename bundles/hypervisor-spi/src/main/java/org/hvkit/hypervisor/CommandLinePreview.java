package org.hvkit.hypervisor;

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
}
