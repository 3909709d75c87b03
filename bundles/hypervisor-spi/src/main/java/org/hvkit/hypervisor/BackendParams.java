package org.hvkit.hypervisor;

import java.io.Serializable;

/**
 * The backend parameters a hypervisor consumes ({@code beparams}).
 *
 * @param memory memory in MiB (Ganeti default 128)
 * @param vcpus  virtual CPUs (Ganeti default 1)
 */
public record BackendParams(int memory, int vcpus) implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final BackendParams DEFAULTS = new BackendParams(128, 1);

    public BackendParams {
        if (memory < 1) {
            throw new IllegalArgumentException("memory must be at least 1 MiB: " + memory);
        }
        if (vcpus < 1) {
            throw new IllegalArgumentException("vcpus must be at least 1: " + vcpus);
        }
    }
}
