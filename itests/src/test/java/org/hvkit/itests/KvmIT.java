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
 * network namespace is needed): configure a node through ConfigAdmin, dry-run, start, list,
 * survive a kvm bundle restart (the guest's heartbeat goes on, the new bundle adopts it),
 * ACPI stop, cleanup. {@link HvCommandsIT} drives every other command.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class KvmIT extends HvkitTestSupport {

    @Inject
    private ConfigurationAdmin configAdmin;

    private static String guestJson(Path guest) {
        return "{\"name\": \"kvmit\", \"hypervisor\": \"kvm\", \"primary_node\": \"node-kvm\","
                + " \"beparams\": {\"memory\": 128, \"vcpus\": 1},"
                + " \"hvparams\": {\"kernel_path\": \"" + guest.resolve("vmlinuz") + "\","
                + " \"initrd_path\": \"" + guest.resolve("initramfs.gz") + "\", \"root_path\": \"/dev/ram0\","
                + " \"kernel_args\": \"panic=-1\", \"kvm_flag\": \"disabled\"}}";
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
        props.put("disk.file.dirs", scratch().toString());
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
            waitFor("a heartbeat", Duration.ofSeconds(30), () -> readQuietly(log).contains("HEARTBEAT 2"));
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
}
