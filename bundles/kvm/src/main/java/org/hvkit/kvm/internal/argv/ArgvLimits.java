package org.hvkit.kvm.internal.argv;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.hvkit.hypervisor.HypervisorException;

/**
 * The kernel's limits on a new program's arguments, checked before the spawn so that a start
 * fails naming what is too long instead of with a bare {@code E2BIG} (fault injection: a
 * 200 KiB {@code kernel_args}).
 */
public final class ArgvLimits {

    /** Linux' {@code MAX_ARG_STRLEN}: 32 pages, including the terminating NUL. */
    static final int MAX_ARG_BYTES = 32 * 4096 - 1;
    /** A conservative bound for argv plus environment (Linux allows a quarter of the stack rlimit, 2 MiB by default). */
    static final int MAX_TOTAL_BYTES = 1 << 20;

    /** Which parameter usually feeds the value after an option, for the error text. */
    private static final Map<String, String> SOURCES = Map.of(
            "-append", "kernel_args (with root_path)",
            "-kernel", "kernel_path",
            "-initrd", "initrd_path",
            "-drive", "a disk's dev_path or cdrom_image_path",
            "-vnc", "vnc_bind_address",
            "-mem-path", "mem_path");

    private ArgvLimits() {
    }

    /** @throws HypervisorException naming the option and its source when an argument or the whole is too long */
    public static void check(String instance, List<String> argv, Map<String, String> env) throws HypervisorException {
        long total = 0;
        for (int i = 0; i < argv.size(); i++) {
            int len = argv.get(i).getBytes(StandardCharsets.UTF_8).length;
            total += len + 1;
            if (len > MAX_ARG_BYTES) {
                String option = i > 0 ? argv.get(i - 1) : "the program";
                throw new HypervisorException("Failed to start instance " + instance + ": the value of " + option
                        + " is " + len + " bytes long; Linux passes at most " + MAX_ARG_BYTES + " bytes per argument"
                        + (SOURCES.containsKey(option) ? " (from " + SOURCES.get(option) + ")" : ""));
            }
        }
        for (Map.Entry<String, String> e : env.entrySet()) {
            total += e.getKey().length() + e.getValue().getBytes(StandardCharsets.UTF_8).length + 2;
        }
        if (total > MAX_TOTAL_BYTES) {
            throw new HypervisorException("Failed to start instance " + instance + ": the command line and environment"
                    + " are " + total + " bytes long; hvkit passes at most " + MAX_TOTAL_BYTES + " bytes");
        }
    }
}
