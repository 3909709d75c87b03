package org.hvkit.bench.jmh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.hvkit.bench.BenchGuests;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceJson;
import org.hvkit.hypervisor.ParameterChecks;
import org.hvkit.kvm.internal.argv.KvmArgvBuilder;
import org.hvkit.kvm.internal.runtime.RuntimePaths;
import org.hvkit.kvm.internal.caps.QemuCapabilities;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.runtime.RuntimeStore;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The pure parts of the KVM driver, one JMH benchmark each: rendering the argv of a 3-NIC /
 * 4-disk instance, writing and reading its runtime file, decoding an instance JSON, and
 * parsing the capabilities of the installed QEMU from its cached {@code --help} text.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx512m")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PureBenchmarks {

    private Path dir;
    private Instance instance;
    private Map<String, Object> hvparams;
    private QemuCapabilities caps;
    private String helpText;
    private String instanceJson;
    private KvmArgvBuilder builder;
    private RuntimeStore store;
    private KvmArgvBuilder.Generated generated;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("hvkit-jmh");
        RuntimePaths paths = new RuntimePaths(dir);
        store = new RuntimeStore(paths);
        store.ensureDirectories();
        helpText = qemuHelp();
        caps = QemuCapabilities.parse(helpText);
        instance = BenchGuests.threeNicsFourDisks(dir);
        hvparams = ParameterChecks.fill(KvmParameters.PARAMETERS, KvmParameters.DEFAULTS, instance.hvparams());
        builder = new KvmArgvBuilder(Path.of("/usr/bin/qemu-system-x86_64"), paths);
        generated = builder.generate(instance, hvparams, caps);
        instanceJson = InstanceJson.write(instance);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        try (var all = Files.walk(dir)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static String qemuHelp() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("qemu-system-x86_64", "--help").redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("qemu-system-x86_64 --help failed: " + text);
        }
        return text;
    }

    @Benchmark
    public KvmArgvBuilder.Generated argvThreeNicsFourDisks() throws Exception {
        return builder.generate(instance, hvparams, caps);
    }

    @Benchmark
    public Object runtimeFileWriteAndRead() throws Exception {
        store.save("bench", generated.runtime(), instance);
        return store.load("bench").orElseThrow();
    }

    @Benchmark
    public Instance instanceJsonDecode() throws Exception {
        return InstanceJson.read(instanceJson);
    }

    @Benchmark
    public QemuCapabilities capabilitiesFromCachedHelp() {
        return QemuCapabilities.parse(helpText);
    }
}
