package org.hvkit.remote.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.hvkit.hypervisor.Disk;
import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.hypervisor.Instance;
import org.hvkit.hypervisor.InstanceConsole;
import org.hvkit.hypervisor.InstanceInfo;
import org.hvkit.hypervisor.MigrationInfo;
import org.hvkit.hypervisor.MigrationStatus;
import org.hvkit.hypervisor.Nic;
import org.hvkit.hypervisor.NodeInfo;
import org.hvkit.hypervisor.ParameterException;
import org.hvkit.hypervisor.ParameterSpec;

/**
 * What is exported for one local hypervisor. Aries RSA 1.16.1's fastbin provider looks a called
 * method up by name and parameter types on the exported object's class
 * ({@code ServerInvokerImpl}: {@code clazz.getMethod(name, params)}), so the exported object is
 * this final class with nothing public beyond {@link Hypervisor}'s methods (and
 * {@code Object}'s): none of the driver's other capabilities (serial console, statistics,
 * command-line preview) and none of its internals can be reached from the network.
 *
 * <p>Answers are copied into plain JDK collections so that only the types of the allow-list
 * ({@link SerialAllowList}) travel. A {@link RuntimeException} of the driver reaches the caller as
 * a {@link HypervisorException} (or, where the method declares none, an
 * {@link IllegalStateException}) with its message: never as a class the caller may not know.
 * {@link #instanceConsole} is refused: a console belongs to its node. The class is public only
 * because the provider calls its methods by reflection; its package is not exported.
 */
public final class HypervisorFacade implements Hypervisor {

    private final Hypervisor local;
    private final String node;

    /** Not public: only {@link RemoteExporter} makes facades. */
    HypervisorFacade(Hypervisor local, String node) {
        this.local = Objects.requireNonNull(local, "local");
        this.node = Objects.requireNonNull(node, "node");
    }

    @Override
    public String type() {
        return plain(local::type);
    }

    @Override
    public String node() {
        return node;
    }

    @Override
    public boolean canMigrate() {
        return plain(local::canMigrate);
    }

    @Override
    public Map<String, ParameterSpec> parameters() {
        return new LinkedHashMap<>(plain(local::parameters));
    }

    @Override
    public Map<String, Object> defaults() {
        return new LinkedHashMap<>(plain(local::defaults));
    }

    @Override
    public List<String> listInstances() throws HypervisorException {
        return new ArrayList<>(call(local::listInstances));
    }

    @Override
    public List<String> knownInstances() throws HypervisorException {
        return new ArrayList<>(call(local::knownInstances));
    }

    @Override
    public InstanceInfo instanceInfo(String name) throws HypervisorException {
        return call(() -> local.instanceInfo(name));
    }

    @Override
    public List<InstanceInfo> allInstancesInfo() throws HypervisorException {
        return new ArrayList<>(call(local::allInstancesInfo));
    }

    @Override
    public Instance runningInstance(String name) throws HypervisorException {
        return call(() -> local.runningInstance(name));
    }

    @Override
    public void startInstance(Instance instance, boolean startPaused) throws HypervisorException {
        run(() -> local.startInstance(instance, startPaused));
    }

    @Override
    public void stopInstance(Instance instance, boolean force, Duration timeout) throws HypervisorException {
        if (timeout == null || timeout.isNegative()) {
            throw new HypervisorException("Failed to stop instance " + instance.name() + ": timeout " + timeout
                    + " is not allowed (allowed: a duration of 0 or more)");
        }
        run(() -> local.stopInstance(instance, force, timeout));
    }

    @Override
    public Duration defaultStopTimeout() {
        return plain(local::defaultStopTimeout);
    }

    @Override
    public void stopInstanceByName(String name) throws HypervisorException {
        run(() -> local.stopInstanceByName(name));
    }

    @Override
    public void cleanupInstance(String name) throws HypervisorException {
        run(() -> local.cleanupInstance(name));
    }

    @Override
    public void rebootInstance(Instance instance) throws HypervisorException {
        run(() -> local.rebootInstance(instance));
    }

    @Override
    public void balloonInstanceMemory(Instance instance, int memoryMiB) throws HypervisorException {
        run(() -> local.balloonInstanceMemory(instance, memoryMiB));
    }

    @Override
    public void checkHotplugSupport(Instance instance) throws HypervisorException {
        run(() -> local.checkHotplugSupport(instance));
    }

    @Override
    public void hotAddNic(Instance instance, Nic nic) throws HypervisorException {
        run(() -> local.hotAddNic(instance, nic));
    }

    @Override
    public void hotModifyNic(Instance instance, Nic nic) throws HypervisorException {
        run(() -> local.hotModifyNic(instance, nic));
    }

    @Override
    public void hotRemoveNic(Instance instance, String mac) throws HypervisorException {
        run(() -> local.hotRemoveNic(instance, mac));
    }

    @Override
    public void hotAddDisk(Instance instance, Disk disk) throws HypervisorException {
        run(() -> local.hotAddDisk(instance, disk));
    }

    @Override
    public void hotRemoveDisk(Instance instance, String devPath) throws HypervisorException {
        run(() -> local.hotRemoveDisk(instance, devPath));
    }

    @Override
    public MigrationInfo migrationInfo(Instance instance) throws HypervisorException {
        return call(() -> local.migrationInfo(instance));
    }

    @Override
    public void acceptInstance(Instance instance, MigrationInfo info, String targetAddress) throws HypervisorException {
        run(() -> local.acceptInstance(instance, info, targetAddress));
    }

    @Override
    public void migrateInstance(Instance instance, String targetAddress, boolean live) throws HypervisorException {
        run(() -> local.migrateInstance(instance, targetAddress, live));
    }

    @Override
    public MigrationStatus migrationStatus(Instance instance) throws HypervisorException {
        return call(() -> local.migrationStatus(instance));
    }

    @Override
    public void finalizeMigration(Instance instance, MigrationInfo info, boolean success) throws HypervisorException {
        run(() -> local.finalizeMigration(instance, info, success));
    }

    @Override
    public InstanceConsole instanceConsole(Instance instance) throws HypervisorException {
        throw new HypervisorException("The console of instance " + instance.name() + " is on node " + node
                + ": open it on that node's Karaf (hv:console there); a console does not cross the remote"
                + " connection");
    }

    @Override
    public NodeInfo nodeInfo() throws HypervisorException {
        return call(local::nodeInfo);
    }

    @Override
    public List<String> verify() {
        return new ArrayList<>(plain(local::verify));
    }

    @Override
    public void checkParameterSyntax(Map<String, ?> hvparams) throws ParameterException {
        parameterCheck(() -> local.checkParameterSyntax(hvparams));
    }

    @Override
    public void validateParameters(Map<String, ?> hvparams) throws ParameterException {
        parameterCheck(() -> local.validateParameters(hvparams));
    }

    @Override
    public List<String> assessParameters(Map<String, ?> hvparams) {
        return new ArrayList<>(plain(() -> local.assessParameters(hvparams)));
    }

    @Override
    public String toString() {
        return "facade of " + node;
    }

    /** A driver call that may fail with a {@link HypervisorException}. */
    @FunctionalInterface
    private interface Call<T> {
        T get() throws HypervisorException;
    }

    @FunctionalInterface
    private interface Action {
        void run() throws HypervisorException;
    }

    @FunctionalInterface
    private interface Check {
        void run() throws ParameterException;
    }

    @FunctionalInterface
    private interface Plain<T> {
        T get();
    }

    private <T> T call(Call<T> c) throws HypervisorException {
        try {
            return c.get();
        } catch (RuntimeException e) {
            throw new HypervisorException(describe(e));
        }
    }

    private void run(Action a) throws HypervisorException {
        call(() -> {
            a.run();
            return null;
        });
    }

    private void parameterCheck(Check c) throws ParameterException {
        try {
            c.run();
        } catch (RuntimeException e) {
            throw new IllegalStateException(describe(e));
        }
    }

    private <T> T plain(Plain<T> p) {
        try {
            return p.get();
        } catch (RuntimeException e) {
            throw new IllegalStateException(describe(e));
        }
    }

    private String describe(RuntimeException e) {
        return "node " + node + ": " + e.getClass().getName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
}
