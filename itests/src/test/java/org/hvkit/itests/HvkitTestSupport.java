package org.hvkit.itests;

import static org.ops4j.pax.exam.CoreOptions.maven;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.vmOptions;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.configureConsole;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFileExtend;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.features;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.karafDistributionConfiguration;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.keepRuntimeFolder;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.logLevel;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import javax.inject.Inject;

import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.hvkit.hypervisor.Hypervisor;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.karaf.options.LogLevelOption.LogLevel;
import org.ops4j.pax.exam.options.MavenArtifactUrlReference;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.util.tracker.ServiceTracker;

/**
 * What every hvkit integration test shares: a real Karaf {@value #KARAF_VERSION_PROPERTY}
 * distribution with the {@code hvkit} feature installed from this build, random ports, the
 * fake hypervisor configured as node {@value #NODE_A} with a private state directory, and
 * helpers to run shell commands and wait for services.
 */
public abstract class HvkitTestSupport {

    static final String KARAF_VERSION_PROPERTY = "karaf.version";
    static final String NODE_A = "node-a";
    /**
     * Felix fileinstall (3.7.4 in Karaf 4.4.10) reads {@code <factoryPid>-<alias>.cfg} as a factory
     * configuration and splits at the last '-', so the alias must not contain one.
     */
    static final String FAKE_NODE_A_CFG = "etc/org.hvkit.fake-nodea.cfg";
    /** System property (inside the container) naming this test's private scratch directory. */
    static final String SCRATCH_PROPERTY = "hvkit.it.scratch";
    /** The QEMU that {@code .ci/run} installs (Debian's qemu-system-x86). */
    protected static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");

    @Inject
    protected BundleContext bundleContext;

    @Inject
    protected SessionFactory sessionFactory;

    @Configuration
    public Option[] config() throws IOException {
        String karafVersion = System.getProperty(KARAF_VERSION_PROPERTY);
        String hvkitVersion = System.getProperty("hvkit.version");
        Path scratch = Path.of("target", "it-scratch", getClass().getSimpleName() + "-" + UUID.randomUUID())
                .toAbsolutePath();
        Files.createDirectories(scratch);
        MavenArtifactUrlReference hvkitFeatures = maven().groupId("org.hvkit").artifactId("hvkit-features")
                .version(hvkitVersion).type("xml").classifier("features");
        return new Option[] {
            karafDistributionConfiguration()
                    .frameworkUrl(maven().groupId("org.apache.karaf").artifactId("apache-karaf")
                            .version(karafVersion).type("tar.gz"))
                    .unpackDirectory(new File("target/exam"))
                    .useDeployFolder(false),
            keepRuntimeFolder(),
            logLevel(LogLevel.INFO),
            configureConsole().ignoreLocalConsole().ignoreRemoteShell(),
            // our artifacts are staged by the build; the local repository holds the rest
            editConfigurationFileExtend("etc/org.ops4j.pax.url.mvn.cfg", "org.ops4j.pax.url.mvn.defaultRepositories",
                    new File("target/reactor-repo").getAbsoluteFile().toURI() + "@id=reactor@snapshots"),
            editConfigurationFilePut("etc/org.ops4j.pax.url.mvn.cfg", "org.ops4j.pax.url.mvn.localRepository",
                    System.getProperty("org.ops4j.pax.url.mvn.localRepository")),
            // random ports, so that tests never collide with each other or with a running Karaf
            editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiRegistryPort", freePort()),
            editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiServerPort", freePort()),
            editConfigurationFilePut("etc/org.apache.karaf.shell.cfg", "sshPort", freePort()),
            // the fake hypervisor of node-a keeps its state in this test's scratch directory
            editConfigurationFilePut(FAKE_NODE_A_CFG, "hypervisor.node", NODE_A),
            editConfigurationFilePut(FAKE_NODE_A_CFG, "state.dir", scratch.resolve("fake-a").toString()),
            systemProperty(SCRATCH_PROPERTY).value(scratch.toString()),
            // the real test guest, built by the kvm module (tools/guest/build.sh)
            systemProperty("hvkit.guest.dir").value(Path.of(System.getProperty("hvkit.guest.dir", "../target/guest"))
                    .toAbsolutePath().normalize().toString()),
            // bin/karaf's module flags for Java 17 (Pax Exam's own command line lacks them)
            vmOptions("--add-reads=java.xml=java.logging",
                    "--add-exports=java.base/org.apache.karaf.specs.locator=java.xml,ALL-UNNAMED",
                    "--patch-module", "java.base=lib/endorsed/org.apache.karaf.specs.locator-" + karafVersion + ".jar",
                    "--patch-module", "java.xml=lib/endorsed/org.apache.karaf.specs.java.xml-" + karafVersion + ".jar",
                    "--add-opens", "java.base/java.security=ALL-UNNAMED",
                    "--add-opens", "java.base/java.net=ALL-UNNAMED",
                    "--add-opens", "java.base/java.lang=ALL-UNNAMED",
                    "--add-opens", "java.base/java.util=ALL-UNNAMED",
                    "--add-opens", "java.naming/javax.naming.spi=ALL-UNNAMED",
                    "--add-opens", "java.rmi/sun.rmi.transport.tcp=ALL-UNNAMED",
                    "--add-exports=java.base/sun.net.www.protocol.file=ALL-UNNAMED",
                    "--add-exports=java.base/sun.net.www.protocol.ftp=ALL-UNNAMED",
                    "--add-exports=java.base/sun.net.www.protocol.http=ALL-UNNAMED",
                    "--add-exports=java.base/sun.net.www.protocol.https=ALL-UNNAMED",
                    "--add-exports=java.base/sun.net.www.protocol.jar=ALL-UNNAMED",
                    "--add-exports=java.base/sun.net.www.content.text=ALL-UNNAMED",
                    "--add-exports=jdk.xml.dom/org.w3c.dom.html=ALL-UNNAMED",
                    "--add-exports=jdk.naming.rmi/com.sun.jndi.url.rmi=ALL-UNNAMED",
                    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
                    "--add-exports=java.security.sasl/com.sun.security.sasl=ALL-UNNAMED",
                    "--add-exports=java.naming/com.sun.jndi.ldap=ALL-UNNAMED"),
            features(hvkitFeatures, "hvkit"),
        };
    }

    /** A TCP port free right now, for a subclass's own configuration. */
    protected static String unusedPort() throws IOException {
        return freePort();
    }

    private static String freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return Integer.toString(s.getLocalPort());
        }
    }

    /** This test's private scratch directory (exists). */
    protected static Path scratch() {
        return Path.of(System.getProperty(SCRATCH_PROPERTY));
    }

    /**
     * A KVM node's configuration on loopback with its own root.dir, the installed QEMU, a 30 s
     * stop timeout, a node-wide {@code migration_port} (Ganeti's cluster-level hvparam: no
     * instance may set it) and the scratch directory, where the tests make their disk images, as
     * its only {@code disk.file.dirs}.
     */
    protected static Map<String, Object> kvmNodeProperties(String node, Path root, int migrationPort) {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("hypervisor.node", node);
        props.put("hypervisor.address", "127.0.0.1");
        props.put("root.dir", root.toString());
        props.put("kvm.path", QEMU.toString());
        props.put("stop.timeout.seconds", "30");
        props.put("hvparam.migration_port", Integer.toString(migrationPort));
        props.put("disk.file.dirs", scratch().toString());
        return props;
    }

    /** Writes {@code json} to a file in the scratch directory and returns its absolute path. */
    protected static Path writeInstanceFile(String fileName, String json) throws IOException {
        return Files.writeString(scratch().resolve(fileName), json, StandardCharsets.UTF_8);
    }

    /** The result of a shell command: its output and, if it failed, the error. */
    protected record CommandResult(String output, Exception error) {
        boolean failed() {
            return error != null;
        }

        String errorMessage() {
            return error == null ? null : error.getMessage();
        }
    }

    /** Runs a shell command in a fresh Karaf session, as an operator would type it. */
    protected CommandResult run(String command) throws Exception {
        return runWithKeyboard(command, new ByteArrayInputStream(new byte[0]));
    }

    /** Runs a shell command whose session keyboard is {@code keyboard}. */
    protected CommandResult runWithKeyboard(String command, java.io.InputStream keyboard) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        ExecutorService executor = Executors.newSingleThreadExecutor();
        Session session = sessionFactory.create(keyboard, out, out);
        try {
            Future<Exception> f = executor.submit(() -> {
                try {
                    session.execute(command);
                    return null;
                } catch (Exception e) {
                    return e;
                }
            });
            Exception error = f.get(60, TimeUnit.SECONDS);
            out.flush();
            String text = bytes.toString(StandardCharsets.UTF_8);
            System.err.println("karaf@root()> " + command + "\n" + text + (error == null ? "" : "Error: " + error.getMessage()));
            return new CommandResult(text, error);
        } finally {
            session.close();
            executor.shutdownNow();
        }
    }

    /** Runs a shell command that must succeed and returns its output. */
    protected String execute(String command) throws Exception {
        CommandResult r = run(command);
        if (r.failed()) {
            throw new AssertionError("command failed: " + command + ": " + r.errorMessage(), r.error());
        }
        return r.output();
    }

    /** Waits until the hv commands are registered (the shell bundle registers them asynchronously). */
    protected void awaitShellCommands() throws InterruptedException {
        waitFor("the hv:* commands", Duration.ofSeconds(30), () -> {
            try {
                CommandResult r = run("hv:types");
                return !r.failed() && !r.output().contains("Command not found");
            } catch (Exception e) {
                return false;
            }
        });
    }

    /** Waits for a hypervisor service matching the LDAP filter fragment, e.g. {@code (hypervisor.node=node-a)}. */
    protected Hypervisor awaitHypervisor(String filter, Duration timeout) throws Exception {
        String full = "(&(objectClass=" + Hypervisor.class.getName() + ")" + filter + ")";
        ServiceTracker<Hypervisor, Hypervisor> tracker =
                new ServiceTracker<>(bundleContext, bundleContext.createFilter(full), null);
        tracker.open();
        try {
            Hypervisor hv = tracker.waitForService(timeout.toMillis());
            if (hv == null) {
                throw new AssertionError("no Hypervisor service matching " + full + " within " + timeout);
            }
            return hv;
        } finally {
            tracker.close();
        }
    }

    /** Polls {@code condition} every 20 ms until it holds, failing with {@code what} after {@code timeout}. */
    protected static void waitFor(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /**
     * Waits until the DS component {@code name} has a configuration that failed to activate,
     * and returns SCR's failure text (DS keeps the registration of a failed component, but
     * nobody can get the service).
     */
    protected String awaitFailedActivation(String name, Duration timeout) throws Exception {
        ServiceTracker<ServiceComponentRuntime, ServiceComponentRuntime> t =
                new ServiceTracker<>(bundleContext, ServiceComponentRuntime.class, null);
        t.open();
        try {
            ServiceComponentRuntime scr = t.waitForService(timeout.toMillis());
            String[] failure = new String[1];
            waitFor(name + " to fail activation", timeout, () -> {
                for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
                    if (d.name.equals(name)) {
                        for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                            if (c.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                                failure[0] = c.failure;
                                return true;
                            }
                        }
                    }
                }
                return false;
            });
            return failure[0];
        } finally {
            t.close();
        }
    }

    /** The installed bundle with this symbolic name. */
    protected Bundle bundle(String symbolicName) {
        for (Bundle b : bundleContext.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("bundle " + symbolicName + " is not installed");
    }

    /** The file's text, or "" while it does not exist. */
    protected static String readQuietly(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** The last {@code HEARTBEAT n} the test guest printed to its serial log, -1 before the first. */
    protected static int lastHeartbeat(Path serialLog) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("HEARTBEAT (\\d+)").matcher(readQuietly(serialLog));
        int last = -1;
        while (m.find()) {
            last = Integer.parseInt(m.group(1));
        }
        return last;
    }

    /** A bundle life-cycle call ({@code start}, {@code stop}, {@code update}). */
    @FunctionalInterface
    protected interface BundleOperation {
        void run() throws BundleException;
    }

    /**
     * Runs a bundle life-cycle operation, retrying while Felix refuses it with "Unable to
     * acquire global lock for resolve": that happens when another thread (the features
     * service, fileinstall, SCR) resolves at the same moment; Felix refuses instead of risking
     * a deadlock. Any other failure, or the refusal lasting 30 s, fails the test.
     */
    protected static void bundleOperation(String what, BundleOperation op) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        for (int attempt = 1; ; attempt++) {
            try {
                op.run();
                return;
            } catch (BundleException e) {
                String msg = String.valueOf(e.getMessage());
                if (!msg.contains("global lock") || System.nanoTime() > deadline) {
                    throw e;
                }
                System.out.println("[hvkit-it] " + what + ": framework busy resolving (attempt " + attempt
                        + "), retrying: " + msg);
                Thread.sleep(200);
            }
        }
    }

    /** Number of registered Hypervisor services. */
    protected int hypervisorCount() {
        try {
            return bundleContext.getServiceReferences(Hypervisor.class, null).size();
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new AssertionError(e);
        }
    }
}
