package org.hvkit.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Set;

import javax.inject.Inject;

import org.hvkit.hypervisor.Hypervisor;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Every {@code hv:*} command through Karaf's shell, in one place, on real QEMU (TCG) with the
 * real test guest and two KVM nodes configured through ConfigAdmin: types, params, verify,
 * uidpool, start (--dry-run, --paused), list, info, console (attach and --tail), reboot,
 * migrate (live and --non-live, with progress), stop (--timeout, --force), cleanup; and the
 * one-line errors for an unknown instance, an unknown node, bad JSON, an invalid hvparam,
 * starting a running instance and cleaning up a running one.
 *
 * <p>The main guest runs under {@code security_model=pool}; the pool is the passwd users
 * {@code nobody} (65534) and {@code backup} (34), under which nothing runs on the test
 * machines, so that QEMU's -runas has names and a migration target gets a uid of its own.
 * The guest has no NIC: the taps and bridges are covered by the kvm bundle's tests in a
 * private network namespace, which the Pax Exam container cannot join (TOOLCHAIN pitfall 16).
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HvCommandsIT extends HvkitTestSupport {

    private static final Set<String> POOL_UIDS = Set.of("65534", "34");

    @Inject
    private ConfigurationAdmin configAdmin;

    private static String guestJson(String name, Path guest, String securityModel) {
        return "{\"name\": \"" + name + "\", \"hypervisor\": \"kvm\", \"primary_node\": \"node-kvma\","
                + " \"beparams\": {\"memory\": 96, \"vcpus\": 1},"
                + " \"hvparams\": {\"kernel_path\": \"" + guest.resolve("vmlinuz") + "\","
                + " \"initrd_path\": \"" + guest.resolve("initramfs.gz") + "\", \"root_path\": \"/dev/ram0\","
                + " \"kernel_args\": \"panic=-1\", \"kvm_flag\": \"disabled\","
                + " \"security_model\": \"" + securityModel + "\"}}";
    }

    private Configuration kvmNode(String alias, String node, Path root, int migrationPort) throws Exception {
        Configuration cfg = configAdmin.getFactoryConfiguration("org.hvkit.kvm", alias, "?");
        cfg.update(new Hashtable<>(kvmNodeProperties(node, root, migrationPort)));
        return cfg;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static long pid(Path root, String name) throws Exception {
        return Long.parseLong(Files.readString(root.resolve("pid/" + name)).trim());
    }

    private static String uidOf(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("Uid:")) {
                return line.split("\\s+")[1];
            }
        }
        throw new AssertionError("no Uid line for " + pid);
    }

    private static void deleteTree(Path root) throws java.io.IOException {
        try (java.util.stream.Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The process has exited: no /proc entry, or a zombie waiting for its reaper (PID 1 here). */
    private static boolean exited(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (java.io.IOException e) {
            return true;
        }
    }

    /** Runs a command that must fail and returns its one-line error. */
    private String error(String command) throws Exception {
        CommandResult r = run(command);
        assertTrue(command + " must fail", r.failed());
        assertFalse("one line: " + r.errorMessage(), r.errorMessage().contains("\n"));
        return r.errorMessage();
    }

    @Test
    public void everyCommandOnARealGuestAcrossTwoNodes() throws Exception {
        assertTrue("QEMU is installed (.ci/run installs qemu-system-x86)", Files.isExecutable(QEMU));
        Path guest = Path.of(System.getProperty("hvkit.guest.dir"));
        assertTrue("the test guest was built by the kvm module's build", Files.isRegularFile(guest.resolve("vmlinuz")));
        // unix socket paths must fit 107 bytes: the node roots live in a short temp dir, not the scratch dir
        Path shortRoot = Files.createTempDirectory(Path.of("/tmp"), "hvit");
        Path rootA = shortRoot.resolve("a");
        Path rootB = shortRoot.resolve("b");
        Path lockDir = scratch().resolve("uid-pool");
        List<Configuration> configs = new ArrayList<>();
        int migrationPort = freePort();
        configs.add(kvmNode("cmda", "node-kvma", rootA, migrationPort));
        configs.add(kvmNode("cmdb", "node-kvmb", rootB, migrationPort));
        Configuration pool = configAdmin.getConfiguration("org.hvkit.uidpool", "?");
        Dictionary<String, Object> poolProps = new Hashtable<>();
        poolProps.put("pool", "34,65534");
        poolProps.put("lock.dir", lockDir.toString());
        pool.update(poolProps);
        configs.add(pool);

        Path file = writeInstanceFile("cmdit.json", guestJson("cmdit", guest, "pool"));
        Path plain = writeInstanceFile("plainit.json", guestJson("plainit", guest, "none"));
        Path logA = rootA.resolve("ctrl/cmdit.serial.log");
        Path logB = rootB.resolve("ctrl/cmdit.serial.log");
        try {
            awaitHypervisor("(&(hypervisor.type=kvm)(hypervisor.node=node-kvma))", Duration.ofSeconds(30));
            awaitHypervisor("(&(hypervisor.type=kvm)(hypervisor.node=node-kvmb))", Duration.ofSeconds(30));
            awaitShellCommands();
            waitFor("the uid pool service", Duration.ofSeconds(30), () -> {
                try {
                    return !run("hv:uidpool").failed();
                } catch (Exception e) {
                    return false;
                }
            });

            // --- what is there
            String types = execute("hv:types");
            assertTrue(types, types.contains("kvm") && types.contains("node-kvma") && types.contains("node-kvmb")
                    && types.contains("org.hvkit.kvm") && types.contains("fake"));
            String params = execute("hv:params kvm");
            assertTrue("the node-wide default shows", execute("hv:params -n node-kvma kvm").contains(Integer.toString(migrationPort)));
            assertTrue(params, params.contains("Parameters of kvm (65)") && params.contains("security_model")
                    && params.contains("migration_bandwidth") && params.contains("NET_PORT_CHECK"));
            String verify = execute("hv:verify");
            assertTrue(verify, verify.contains("kvm@node-kvma: OK") && verify.contains("kvm@node-kvmb: OK"));
            String uids = execute("hv:uidpool");
            assertTrue(uids, uids.contains("34, 65534") || uids.contains("34,65534"));
            assertTrue(uids, uids.contains("Total     2") && uids.contains("Taken     0"));

            // --- errors, one clear line each, and nothing started
            assertEquals("Instance 'ghost' is not running on any registered hypervisor (looked at: fake@node-a,"
                    + " kvm@node-kvma, kvm@node-kvmb)", error("hv:info ghost"));
            assertEquals("No kvm hypervisor on node 'node-z' (registered: fake@node-a, kvm@node-kvma, kvm@node-kvmb)",
                    error("hv:start -n node-z " + file));
            Path bad = writeInstanceFile("bad.json", "{\"name\": \"x\",\n \"hypervisor\": \"kvm\", \"nics\": [}");
            assertTrue(error("hv:start " + bad).startsWith("Invalid instance definition: malformed JSON at line 2"));
            Path badParam = writeInstanceFile("badparam.json", "{\"name\": \"x\", \"hypervisor\": \"kvm\","
                    + " \"primary_node\": \"node-kvma\", \"hvparams\": {\"boot_order\": \"sideways\"}}");
            String badParamError = error("hv:start " + badParam);
            assertTrue(badParamError, badParamError.contains("boot_order") && badParamError.contains("sideways"));
            String globalError = error("hv:start " + writeInstanceFile("global.json", "{\"name\": \"x\","
                    + " \"hypervisor\": \"kvm\", \"primary_node\": \"node-kvma\", \"hvparams\": {\"migration_port\": 1}}"));
            assertTrue(globalError, globalError.endsWith("please modify them at cluster level: migration_port"));
            assertTrue(execute("hv:list").contains("(no instances)"));

            // --- start: the dry run is exactly what runs (security_model none: no pool user to guess)
            String dry = execute("hv:start --dry-run " + plain).trim();
            assertTrue(dry, dry.startsWith("[\"" + QEMU + "\",\"-name\",\"plainit\""));
            assertFalse("a dry run starts nothing", Files.exists(rootA.resolve("pid/plainit")));
            String startedPaused = execute("hv:start --paused " + plain);
            assertTrue(startedPaused, startedPaused.contains("Starting plainit on kvm@node-kvma with its CPUs stopped")
                    && startedPaused.contains("Instance plainit started on kvm@node-kvma (paused) in "));
            List<String> previewed = new com.fasterxml.jackson.databind.ObjectMapper().readValue(dry,
                    new com.fasterxml.jackson.core.type.TypeReference<List<String>>() { });
            String cmdline = Files.readString(Path.of("/proc/" + pid(rootA, "plainit") + "/cmdline"),
                    StandardCharsets.UTF_8);
            assertEquals("hv:start --dry-run equals /proc/PID/cmdline", previewed,
                    List.of(cmdline.substring(0, cmdline.length() - 1).split("\0")));
            assertTrue(execute("hv:info plainit").contains("paused"));
            assertEquals("Cannot cleanup a live instance plainit (running on kvm@node-kvma)", error("hv:cleanup plainit"));
            assertEquals("Failed to start instance plainit: already running on kvm@node-kvma", error("hv:start " + plain));
            long plainPid = pid(rootA, "plainit");
            String forced = execute("hv:stop --force plainit");
            assertTrue(forced, forced.contains("Instance plainit stopped on kvm@node-kvma"));
            assertTrue("the forced stop killed QEMU", exited(plainPid));
            assertTrue(execute("hv:cleanup -t kvm -n node-kvma plainit").contains("Cleaned up plainit on kvm@node-kvma"));

            // --- the main guest under a pool uid
            String started = execute("hv:start " + file);
            assertTrue(started, started.contains("Starting cmdit on kvm@node-kvma ...")
                    && started.contains("Instance cmdit started on kvm@node-kvma in "));
            long pidA = pid(rootA, "cmdit");
            String uidA = uidOf(pidA);
            assertTrue("QEMU runs as a pool uid, not " + uidA, POOL_UIDS.contains(uidA));
            assertTrue(execute("hv:uidpool").contains("Taken     1 (" + uidA + ")"));
            waitFor("GUEST-UP and a heartbeat", Duration.ofSeconds(60), () -> lastHeartbeat(logA) >= 2);
            String list = execute("hv:list");
            assertTrue(list, list.contains("cmdit") && list.contains("node-kvma") && list.contains("96")
                    && list.contains("running"));
            String info = execute("hv:info cmdit");
            assertTrue(info, info.contains("kvm@node-kvma") && info.contains("96 MiB") && info.contains("running")
                    && info.contains(Long.toString(pidA)));
            String tail = execute("hv:console --tail 2 cmdit");
            assertEquals(tail, 2, tail.lines().count());
            assertTrue(tail, tail.contains("HEARTBEAT"));
            String attached = runWithKeyboard("hv:console cmdit", new DelayedKey(2500, 0x1d)).output();
            assertTrue(attached, attached.contains("Connected to the serial console of cmdit")
                    && attached.contains("HEARTBEAT") && attached.contains("Detached from cmdit"));

            // --- reboot: Ganeti's stop and start from the saved runtime, a new QEMU
            String rebooted = execute("hv:reboot cmdit");
            assertTrue(rebooted, rebooted.contains("Instance cmdit rebooted on kvm@node-kvma"));
            long pidRebooted = pid(rootA, "cmdit");
            assertNotEquals("reboot runs a new QEMU", pidA, pidRebooted);
            waitFor("the guest up again after the reboot", Duration.ofSeconds(60),
                    () -> readQuietly(logA).contains("GUEST-UP") && lastHeartbeat(logA) >= 1);

            // --- live migration to node-kvmb with progress, the heartbeat goes on there
            int before = lastHeartbeat(logA);
            String migrated = execute("hv:migrate cmdit node-kvmb");
            assertTrue(migrated, migrated.contains("Migrating cmdit from kvm@node-kvma to kvm@node-kvmb")
                    && migrated.contains("target accepted the instance")
                    && migrated.contains("Instance cmdit migrated to kvm@node-kvmb in "));
            waitFor("the heartbeat to go on on node-kvmb", Duration.ofSeconds(30), () -> lastHeartbeat(logB) > before);
            assertTrue("the source QEMU is gone", exited(pidRebooted));
            String uidB = uidOf(pid(rootB, "cmdit"));
            assertTrue("the target runs under a pool uid, not " + uidB, POOL_UIDS.contains(uidB));
            list = execute("hv:list");
            assertTrue(list, list.contains("node-kvmb") && !list.contains("node-kvma"));
            assertEquals("the source released its uid", "Taken     1 (" + uidB + ")",
                    execute("hv:uidpool").lines().filter(l -> l.startsWith("Taken")).findFirst().orElseThrow());

            // --- and back, non-live
            int beforeBack = lastHeartbeat(logB);
            String back = execute("hv:migrate --non-live cmdit node-kvma");
            assertTrue(back, back.contains("Instance cmdit migrated to kvm@node-kvma in "));
            waitFor("the heartbeat to go on on node-kvma", Duration.ofSeconds(30),
                    () -> lastHeartbeat(logA) > beforeBack);

            // --- stop (ACPI, bounded wait), cleanup, nothing left
            String stopped = execute("hv:stop --timeout 30 cmdit");
            assertTrue(stopped, stopped.contains("Instance cmdit stopped on kvm@node-kvma"));
            assertTrue("ACPI powerdown reached the guest", readQuietly(logA).contains("GUEST-POWERDOWN"));
            assertEquals("Instance 'cmdit' is not running on any registered hypervisor (looked at: fake@node-a,"
                    + " kvm@node-kvma, kvm@node-kvmb)", error("hv:stop cmdit"));
            String cleaned = execute("hv:cleanup cmdit");
            // only node-kvma has state left: the migration to node-kvmb and back cleaned node-kvmb up
            assertEquals("Cleaned up cmdit on kvm@node-kvma", cleaned.strip());
            assertEquals("Instance 'cmdit' has no runtime state on any registered hypervisor (looked at: fake@node-a,"
                    + " kvm@node-kvma, kvm@node-kvmb); nothing to clean up", error("hv:cleanup cmdit"));
            assertFalse(Files.exists(rootA.resolve("conf/cmdit.runtime")));
            assertFalse(Files.exists(rootB.resolve("conf/cmdit.runtime")));
            assertTrue(execute("hv:list").contains("(no instances)"));
            assertTrue(execute("hv:uidpool").contains("Taken     0"));
        } finally {
            for (String node : List.of("node-kvma", "node-kvmb")) {
                Hypervisor hv = awaitHypervisor("(hypervisor.node=" + node + ")", Duration.ofSeconds(5));
                for (String name : List.of("cmdit", "plainit")) {
                    if (hv.listInstances().contains(name)) {
                        hv.stopInstanceByName(name);
                    }
                    hv.cleanupInstance(name);
                }
            }
            for (Configuration c : configs) {
                c.delete();
            }
            deleteTree(shortRoot);
        }
    }
}
