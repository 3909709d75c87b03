package org.hvkit.shell.internal;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.HypervisorException;

@Command(scope = "hv", name = "top", description = "hv:stats refreshed every second until Ctrl-C (like virt-top).")
@Service
public final class TopCommand extends SelectingAction {

    /** Even without Ctrl-C a forgotten session stops refreshing after a day. */
    static final int MAX_ITERATIONS = 86_400;
    private static final String CLEAR = "\033[H\033[2J";

    @Option(name = "-d", aliases = "--delay", description = "Seconds between refreshes, 1-60")
    int delaySeconds = 1;

    @Option(name = "--iterations", description = "Stop after this many refreshes (default: until Ctrl-C, at most a day)")
    int iterations = MAX_ITERATIONS;

    @Override
    Object run(HypervisorRegistry registry) throws Exception {
        if (delaySeconds < 1 || delaySeconds > 60) {
            throw new HypervisorException("--delay must be 1 to 60 seconds, got " + delaySeconds);
        }
        if (iterations < 1 || iterations > MAX_ITERATIONS) {
            throw new HypervisorException("--iterations must be 1 to " + MAX_ITERATIONS + ", got " + iterations);
        }
        StatsSource source = new StatsSource(registry.select(type, node), null);
        StatsTable table = new StatsTable();
        for (int i = 0; i < iterations && !Thread.currentThread().isInterrupted(); i++) {
            long started = System.nanoTime();
            String text = table.render(source.pass());
            System.out.print(CLEAR + "hv:top  " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "  (Ctrl-C quits)\n"
                    + text);
            System.out.flush();
            if (System.out.checkError()) {
                break; // the session's terminal is gone
            }
            if (i + 1 < iterations) {
                try {
                    Thread.sleep(Math.max(0, delaySeconds * 1000L - (System.nanoTime() - started) / 1_000_000));
                } catch (InterruptedException e) {
                    break; // Ctrl-C
                }
            }
        }
        return null;
    }
}
