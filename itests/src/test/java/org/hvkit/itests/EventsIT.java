package org.hvkit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.InstanceEvents;
import org.hvkit.hypervisor.InstanceState;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventConstants;
import org.osgi.service.event.EventHandler;

/**
 * Instance events in Karaf (the hvkit feature brings EventAdmin) on real QEMU, seen by an
 * EventHandler as any subscriber would: {@code kill -9} of QEMU → one {@code CRASHED}; an admin
 * stop → one {@code STOPPED}; a guest that powers off under user_shutdown → one
 * {@code SHUTDOWN_BY_GUEST} and state shutdown. {@code hv:events} prints them and unregisters
 * its handler when it ends.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class EventsIT extends HvkitTestSupport {

    private static final String NODE = "node-ev";

    @Inject
    private ConfigurationAdmin configAdmin;

    private final List<String> got = new ArrayList<>();

    private static String guestJson(String name, Path guest, boolean userShutdown) {
        return "{\"name\": \"" + name + "\", \"hypervisor\": \"kvm\", \"primary_node\": \"" + NODE + "\","
                + " \"beparams\": {\"memory\": 128, \"vcpus\": 1},"
                + " \"hvparams\": {\"kernel_path\": \"" + guest.resolve("vmlinuz") + "\","
                + " \"initrd_path\": \"" + guest.resolve("initramfs.gz") + "\", \"root_path\": \"/dev/ram0\","
                + " \"kernel_args\": \"panic=-1\", \"kvm_flag\": \"disabled\", \"user_shutdown\": " + userShutdown
                + "}}";
    }

    private List<String> lines(String instance) {
        synchronized (got) {
            return got.stream().filter(l -> l.contains(" " + instance + " ")).toList();
        }
    }

    private void awaitLine(String line) throws InterruptedException {
        waitFor("event '" + line + "' (got " + got + ")", Duration.ofSeconds(60), () -> {
            synchronized (got) {
                return got.stream().anyMatch(l -> l.startsWith(line));
            }
        });
    }

    /** Presses the ACPI button over QEMU's HMP monitor, as someone outside hvkit would. */
    private static void pressPowerButton(Path hmp) throws Exception {
        // netdev's socket: the path is longer than the JDK's unix sockets accept
        try (org.hvkit.netdev.UnixSocket s = org.hvkit.netdev.UnixSocket.connect(hmp, Duration.ofSeconds(5))) {
            s.write("system_powerdown\n".getBytes(StandardCharsets.US_ASCII));
            Thread.sleep(200); // let QEMU read it before the close
        }
    }

    @Test
    public void crashStopAndGuestShutdownReachAnEventHandler() throws Exception {
        assertTrue("QEMU is installed", Files.isExecutable(QEMU));
        Path guest = Path.of(System.getProperty("hvkit.guest.dir"));
        Path root = scratch().resolve("kvm-events");
        Configuration cfg = configAdmin.getFactoryConfiguration("org.hvkit.kvm", "evnode", "?");
        cfg.update(new Hashtable<>(kvmNodeProperties(NODE, root, 18341)));
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(EventConstants.EVENT_TOPIC, new String[] {InstanceEvents.ALL});
        props.put(EventConstants.EVENT_FILTER, "(" + InstanceEvents.NODE + "=" + NODE + ")");
        EventHandler handler = (Event e) -> {
            synchronized (got) {
                got.add(e.getTopic().substring(InstanceEvents.PREFIX.length()) + " "
                        + e.getProperty(InstanceEvents.INSTANCE) + " " + e.getProperty(InstanceEvents.REASON)
                        + " pid=" + e.getProperty(InstanceEvents.PID) + " type=" + e.getProperty(InstanceEvents.TYPE));
            }
        };
        ServiceRegistration<EventHandler> reg = bundleContext.registerService(EventHandler.class, handler, props);
        ExecutorService console = Executors.newSingleThreadExecutor();
        Hypervisor hv = null;
        try {
            hv = awaitHypervisor("(&(hypervisor.type=kvm)(hypervisor.node=" + NODE + "))", Duration.ofSeconds(30));
            awaitShellCommands();

            // kill -9, followed live by hv:events in the console
            Future<CommandResult> follow = console.submit(() -> run("hv:events -n " + NODE + " --count 2"
                    + " --timeout 50 evcrash"));
            waitFor("hv:events to subscribe", Duration.ofSeconds(20), () -> handlers() == 1);
            assertTrue(execute("hv:start --paused " + writeInstanceFile("evcrash.json",
                    guestJson("evcrash", guest, false))).contains("started"));
            long pid = Long.parseLong(Files.readString(root.resolve("pid/evcrash")).trim());
            awaitLine("STARTED evcrash start-paused pid=" + pid + " type=kvm");
            Thread.sleep(500); // the watcher holds the monitor connection by now
            assertTrue(ProcessHandle.of(pid).orElseThrow().destroyForcibly());
            awaitLine("CRASHED evcrash process-gone pid=" + pid);
            CommandResult printed = follow.get(60, TimeUnit.SECONDS);
            assertTrue(printed.output(), printed.output().contains("evcrash  STARTED  pid=" + pid));
            assertTrue(printed.output(), printed.output().contains("evcrash  CRASHED  pid=" + pid
                    + "  reason=process-gone"));
            assertTrue(printed.output(), printed.output().contains("2 event(s)"));
            assertEquals("hv:events unregistered its handler", 0, handlers());
            execute("hv:cleanup -n " + NODE + " evcrash");

            // an admin stop (ACPI) and a guest powering off on its own under user_shutdown
            execute("hv:start " + writeInstanceFile("evstop.json", guestJson("evstop", guest, false)));
            execute("hv:start " + writeInstanceFile("evoff.json", guestJson("evoff", guest, true)));
            waitFor("both guests up", Duration.ofSeconds(90), () ->
                    readQuietly(root.resolve("ctrl/evstop.serial.log")).contains("HEARTBEAT 1")
                    && readQuietly(root.resolve("ctrl/evoff.serial.log")).contains("HEARTBEAT 1"));
            long stopPid = Long.parseLong(Files.readString(root.resolve("pid/evstop")).trim());
            long offPid = Long.parseLong(Files.readString(root.resolve("pid/evoff")).trim());
            assertTrue(execute("hv:stop -n " + NODE + " evstop").contains("stopped"));
            awaitLine("STOPPED evstop admin-stop pid=" + stopPid);
            pressPowerButton(root.resolve("ctrl/evoff.monitor"));
            awaitLine("SHUTDOWN_BY_GUEST evoff guest-shutdown pid=" + offPid);
            assertEquals(InstanceState.SHUTDOWN, java.util.Objects.requireNonNull(hv.instanceInfo("evoff")).state());
            assertTrue(execute("hv:list -n " + NODE).contains("shutdown by guest"));
            Thread.sleep(1000); // anything more would arrive by now
            assertEquals(List.of("STARTED evcrash start-paused pid=" + pid + " type=kvm",
                    "CRASHED evcrash process-gone pid=" + pid + " type=kvm"), lines("evcrash"));
            assertEquals(List.of("STARTED evstop start pid=" + stopPid + " type=kvm",
                    "STOPPED evstop admin-stop pid=" + stopPid + " type=kvm"), lines("evstop"));
            assertEquals(List.of("STARTED evoff start pid=" + offPid + " type=kvm",
                    "SHUTDOWN_BY_GUEST evoff guest-shutdown pid=" + offPid + " type=kvm"), lines("evoff"));

            // a kvm bundle restart publishes nothing for the instance that runs on
            Bundle kvm = bundle("org.hvkit.kvm");
            bundleOperation("bundle:stop", kvm::stop);
            bundleOperation("bundle:start", kvm::start);
            hv = awaitHypervisor("(hypervisor.node=" + NODE + ")", Duration.ofSeconds(30));
            assertEquals(List.of("evoff"), hv.listInstances());
            Thread.sleep(1000);
            assertEquals("no event for the hand-over", 2, lines("evoff").size());
        } finally {
            console.shutdownNow();
            reg.unregister();
            if (hv != null) {
                for (String name : List.of("evcrash", "evstop", "evoff")) {
                    try {
                        hv.stopInstanceByName(name);
                        hv.cleanupInstance(name);
                    } catch (Exception e) {
                        System.err.println("cleanup of " + name + ": " + e);
                    }
                }
            }
            cfg.delete();
        }
    }

    /** EventHandlers registered by the shell bundle (hv:events while it runs). */
    private int handlers() {
        try {
            ServiceReference<?>[] refs = bundleContext.getAllServiceReferences(EventHandler.class.getName(), null);
            int n = 0;
            for (ServiceReference<?> r : refs == null ? new ServiceReference<?>[0] : refs) {
                if ("org.hvkit.shell".equals(r.getBundle().getSymbolicName())) {
                    n++;
                }
            }
            return n;
        } catch (Exception e) {
            return -1;
        }
    }
}
