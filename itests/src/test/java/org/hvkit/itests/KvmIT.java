package org.hvkit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.inject.Inject;

import org.hvkit.hypervisor.Hypervisor;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The KVM hypervisor in Karaf on real QEMU 7.2 (TCG) with the real test guest (no NIC, so no
 * network namespace is needed): configure a node through ConfigAdmin, start, list, dry-run,
 * survive a kvm bundle restart (the guest's heartbeat goes on, the new bundle adopts it),
 * ACPI stop, cleanup.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class KvmIT extends HvkitTestSupport {

    private static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");

    @Inject
    private ConfigurationAdmin configAdmin;

    private static String guestJson(Path guest) {
        return "{\"name\": \"kvmit\", \"hypervisor\": \"kvm\", \"primary_node\": \"node-kvm\","
                + " \"beparams\": {\"memory\": 128, \"vcpus\": 1},"
                + " \"hvparams\": {\"kernel_path\": \"" + guest.resolve("vmlinuz") + "\","
                + " \"initrd_path\": \"" + guest.resolve("initramfs.gz") + "\", \"root_path\": \"/dev/ram0\","
                + " \"kernel_args\": \"panic=-1\", \"kvm_flag\": \"disabled\"}}";
    }

    private static int lastHeartbeat(Path log) throws Exception {
        Matcher m = Pattern.compile("HEARTBEAT (\\d+)").matcher(Files.readString(log, StandardCharsets.UTF_8));
        int last = -1;
        while (m.find()) {
            last = Integer.parseInt(m.group(1));
        }
        return last;
    }

    @Test
    public void realGuestThroughTheShellAndABundleRestart() throws Exception {
        assertTrue("QEMU is installed (.ci/run installs qemu-system-x86)", Files.isExecutable(QEMU));
        Path guest = Path.of(System.getProperty("hvkit.guest.dir"));
        assertTrue("the test guest was built by the kvm module's build", Files.isRegularFile(guest.resolve("vmlinuz")));
        Path root = scratch().resolve("kvm");
        Configuration cfg = configAdmin.getFactoryConfiguration("org.hvkit.kvm", "itnode", "?");
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("hypervisor.node", "node-kvm");
        props.put("root.dir", root.toString());
        props.put("kvm.path", QEMU.toString());
        cfg.update(props);
        Path file = writeInstanceFile("kvmit.json", guestJson(guest));
        Path log = root.resolve("ctrl/kvmit.serial.log");
        try {
            awaitHypervisor("(&(hypervisor.type=kvm)(hypervisor.node=node-kvm))", Duration.ofSeconds(30));
            awaitShellCommands();
            String dry = execute("hv:start --dry-run " + file);
            assertTrue(dry, dry.trim().startsWith("[\"" + QEMU + "\",\"-name\",\"kvmit\""));
            assertTrue(dry, dry.contains("\"-accel\",\"tcg\"") && dry.contains("\"-S\""));
            assertFalse("dry run started nothing", Files.exists(root.resolve("pid/kvmit")));

            assertTrue(execute("hv:start " + file).contains("Instance kvmit started on kvm@node-kvm"));
            waitFor("GUEST-UP in the serial log", Duration.ofSeconds(60),
                    () -> Files.exists(log) && readQuietly(log).contains("GUEST-UP"));
            // the dry run printed exactly what runs
            long pid = Long.parseLong(Files.readString(root.resolve("pid/kvmit")).trim());
            String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline"), StandardCharsets.UTF_8);
            List<String> running = List.of(cmdline.substring(0, cmdline.length() - 1).split("\0"));
            List<String> previewed = new com.fasterxml.jackson.databind.ObjectMapper().readValue(dry.trim(),
                    new com.fasterxml.jackson.core.type.TypeReference<List<String>>() { });
            assertEquals("hv:start --dry-run equals /proc/PID/cmdline", previewed, running);
            String params = execute("hv:params kvm");
            assertTrue(params, params.contains("Parameters of kvm (28)") && params.contains("migration_port")
                    && params.contains("NET_PORT_CHECK"));
            waitFor("a heartbeat", Duration.ofSeconds(30), () -> readQuietly(log).contains("HEARTBEAT 2"));
            String tail = execute("hv:console --tail 3 kvmit");
            assertEquals(tail, 3, tail.lines().count());
            assertTrue(tail, tail.contains("HEARTBEAT"));
            // attach, read live output for a moment, detach with Ctrl-]
            String attached = runWithKeyboard("hv:console kvmit", new DelayedInput(2500, 0x1d)).output();
            assertTrue(attached, attached.contains("Connected to the serial console of kvmit")
                    && attached.contains("HEARTBEAT") && attached.contains("Detached from kvmit"));
            String list = execute("hv:list -t kvm");
            assertTrue(list, list.contains("kvmit") && list.contains("node-kvm") && list.contains("128")
                    && list.contains("running"));

            // swap: the kvm bundle goes away and comes back; the guest never stops
            Bundle kvm = bundle("org.hvkit.kvm");
            int before = lastHeartbeat(log);
            bundleOperation("bundle:stop", kvm::stop);
            waitFor("the kvm service to go away", Duration.ofSeconds(30), () -> {
                try {
                    return bundleContext.getServiceReferences(Hypervisor.class, "(hypervisor.type=kvm)").isEmpty();
                } catch (Exception e) {
                    return false;
                }
            });
            Thread.sleep(2500);
            bundleOperation("bundle:start", kvm::start);
            Hypervisor adopted = awaitHypervisor("(hypervisor.node=node-kvm)", Duration.ofSeconds(30));
            assertEquals("the new bundle adopts the running guest", List.of("kvmit"), adopted.listInstances());
            assertTrue("the heartbeat went on while the bundle was away", lastHeartbeat(log) >= before + 2);

            String stopped = execute("hv:stop kvmit");
            assertTrue(stopped, stopped.contains("Instance kvmit stopped on kvm@node-kvm"));
            assertTrue("ACPI powerdown reached the guest", readQuietly(log).contains("GUEST-POWERDOWN"));
            assertTrue(execute("hv:list -t kvm").contains("(no instances)"));
            assertTrue(execute("hv:cleanup -t kvm kvmit").contains("Cleaned up kvmit on kvm@node-kvm"));
            assertFalse(Files.exists(root.resolve("conf/kvmit.runtime")));
            assertFalse(Files.exists(log));
        } finally {
            Hypervisor hv = awaitHypervisor("(hypervisor.node=node-kvm)", Duration.ofSeconds(30));
            hv.stopInstanceByName("kvmit");
            cfg.delete();
        }
    }

    /** Keyboard input that arrives after a delay, as a person would type it. */
    private static final class DelayedInput extends java.io.InputStream {
        private final long delayMillis;
        private final int key;
        private boolean sent;

        DelayedInput(long delayMillis, int key) {
            this.delayMillis = delayMillis;
            this.key = key;
        }

        @Override
        public int read() {
            if (sent) {
                return -1;
            }
            try {
                Thread.sleep(delayMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sent = true;
            return key;
        }
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (Exception e) {
            return "";
        }
    }
}
