package org.hvkit.netdev;

/**
 * How a spawned process ended.
 *
 * @param pid      its process id
 * @param exitCode exit code, -1 when killed by a signal
 * @param signal   terminating signal, 0 when it exited
 * @param timedOut whether it was killed for exceeding the timeout
 * @param stdout   what it wrote to stdout (at most 1 MiB kept)
 * @param stderr   what it wrote to stderr (at most 1 MiB kept)
 */
public record SpawnResult(long pid, int exitCode, int signal, boolean timedOut, String stdout, String stderr) {

    public boolean succeeded() {
        return exitCode == 0 && !timedOut;
    }

    /** Ganeti's {@code fail_reason}: "exited with exit code 1", "terminated by signal 9" … */
    public String failReason() {
        if (timedOut) {
            return "killed after its timeout";
        }
        return signal != 0 ? "terminated by signal " + signal : "exited with exit code " + exitCode;
    }

    /** stdout and stderr together, as Ganeti quotes them in errors. */
    public String output() {
        return (stdout + stderr).strip();
    }
}
