package org.hvkit.shell.internal;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceEvents;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;
import org.osgi.service.event.EventConstants;
import org.osgi.service.event.EventHandler;

/**
 * Follows instance events live (like {@code virsh event --loop}): registers an EventAdmin
 * handler for {@code org/hvkit/instance/*}, filtered by type, node and instance, prints one line
 * per event until Ctrl-C, {@code --count} events or {@code --timeout}, and always unregisters.
 */
@Command(scope = "hv", name = "events", description = "Follow instance events (started, stopped, crashed, shut down"
        + " by guest, paused, resumed, migration) live until Ctrl-C (like virsh event --loop).")
@Service
public final class EventsCommand extends SelectingAction {

    /** Even without Ctrl-C a forgotten session stops after a day. */
    static final int MAX_SECONDS = 86_400;
    /** Events waiting to be printed; beyond this they are counted as dropped. */
    static final int QUEUE = 10_000;

    @Argument(index = 0, name = "name", required = false, description = "Only this instance")
    @Completion(InstanceNameCompleter.class)
    String name;

    @Option(name = "-c", aliases = "--count", description = "Stop after this many events (default: until Ctrl-C)")
    int count = Integer.MAX_VALUE;

    @Option(name = "--timeout", description = "Stop after this many seconds, 1-86400 (default: a day)")
    int timeoutSeconds = MAX_SECONDS;

    @Override
    Object run(HypervisorRegistry registry) throws Exception {
        if (name != null) {
            Instance.requireValidName(name);
        }
        if (count < 1) {
            throw new HypervisorException("--count must be at least 1, got " + count);
        }
        if (timeoutSeconds < 1 || timeoutSeconds > MAX_SECONDS) {
            throw new HypervisorException("--timeout must be 1 to " + MAX_SECONDS + " seconds, got " + timeoutSeconds);
        }
        registry.select(type, node); // a mistyped -t or -n is an error, not a silent wait
        if (bundleContext.getServiceReference(EventAdmin.class) == null) {
            throw new HypervisorException("No EventAdmin service: instance events need Karaf's eventadmin feature"
                    + " (feature:install eventadmin)");
        }
        BlockingQueue<Event> queue = new ArrayBlockingQueue<>(QUEUE);
        AtomicLong dropped = new AtomicLong();
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(EventConstants.EVENT_TOPIC, new String[] {InstanceEvents.ALL});
        String filter = EventLines.filter(type, node, name);
        if (filter != null) {
            props.put(EventConstants.EVENT_FILTER, filter);
        }
        EventHandler handler = e -> {
            if (!queue.offer(e)) {
                dropped.incrementAndGet();
            }
        };
        ServiceRegistration<EventHandler> reg = bundleContext.registerService(EventHandler.class, handler, props);
        int printed = 0;
        try {
            System.out.println("Following " + InstanceEvents.ALL + (filter == null ? "" : " " + filter)
                    + " (Ctrl-C ends)");
            System.out.flush();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
            while (printed < count && !Thread.currentThread().isInterrupted()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                Event e;
                try {
                    e = queue.poll(Math.min(left, TimeUnit.SECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
                } catch (InterruptedException x) {
                    break; // Ctrl-C
                }
                if (e != null) {
                    System.out.println(EventLines.line(e.getTopic(), properties(e)));
                    printed++;
                }
                System.out.flush();
                if (System.out.checkError()) {
                    break; // the session's terminal is gone
                }
            }
        } finally {
            reg.unregister();
        }
        long lost = dropped.get();
        System.out.println(printed + " event(s)" + (lost == 0 ? "" : "; " + lost + " dropped (printing fell behind)"));
        return null;
    }

    private static Map<String, Object> properties(Event e) {
        Map<String, Object> m = new java.util.HashMap<>();
        for (String k : e.getPropertyNames()) {
            m.put(k, e.getProperty(k));
        }
        return m;
    }
}
