package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.caps.QemuFeature.CHROOT;
import static org.hvkit.kvm.internal.caps.QemuFeature.RUNAS;
import static org.hvkit.kvm.internal.caps.QemuFeature.RUN_WITH;
import static org.hvkit.kvm.internal.caps.QemuFeature.RUN_WITH_CHROOT;
import static org.hvkit.kvm.internal.params.KvmParameters.SECURITY_DOMAIN;
import static org.hvkit.kvm.internal.params.KvmParameters.USE_CHROOT;

import java.util.Map;

import org.hvkit.hypervisor.HypervisorException;
import org.hvkit.kvm.internal.params.KvmParameters;
import org.hvkit.kvm.internal.params.SecurityModel;

/**
 * Who QEMU runs as and where: {@code -chroot} (saved with the runtime, QEMUs before 8.1) or
 * {@code -run-with chroot=} (8.1, where {@code -chroot} is deprecated; removed in 9.0), and
 * {@code -runas} or {@code -run-with user=} (9.1) for {@code security_model} user and pool (the
 * pool's user is known only on the executing node). A QEMU 8.1–9.0 gets
 * {@code -run-with chroot=<dir>} and {@code -runas <user>}.
 */
final class SecurityArgs {

    private SecurityArgs() {
    }

    /** Saved with the runtime: {@code -chroot} takes a plain path (no option string). */
    static void chroot(Argv a) {
        if (a.bool(USE_CHROOT) && a.caps.has(CHROOT) && !a.caps.has(RUN_WITH_CHROOT)) {
            a.add("-chroot", a.paths.chrootDir(a.instance.name()).toString());
        }
    }

    /**
     * The node-local part before the NICs: a {@code user} model's user (with the chroot under
     * {@code -run-with}), or a chroot alone. Returns the chroot still to be combined with the
     * pool's user, or null.
     */
    static String beforeNics(Argv a, String name, Map<String, Object> confHv) throws HypervisorException {
        SecurityModel model = SecurityModel.of(confHv);
        String chroot = a.caps.has(RUN_WITH_CHROOT) && a.bool(USE_CHROOT) ? a.paths.chrootDir(name).toString() : null;
        if (model == SecurityModel.USER) {
            runAs(a, KvmParameters.str(confHv, SECURITY_DOMAIN), chroot);
            return null;
        }
        if (chroot != null && model != SecurityModel.POOL) {
            a.add("-run-with", "chroot=" + QemuOpts.escape(chroot));
            return null;
        }
        return chroot;
    }

    /** The node-local part at the end: the pool's user (with the chroot under {@code -run-with}). */
    static void pool(Argv a, Map<String, Object> confHv, String poolUser, String chroot) throws HypervisorException {
        if (SecurityModel.of(confHv) != SecurityModel.POOL) {
            return;
        }
        if (poolUser == null) {
            throw new IllegalArgumentException("security_model pool needs the pool uid's user name");
        }
        runAs(a, poolUser, chroot);
    }

    private static void runAs(Argv a, String user, String chroot) throws HypervisorException {
        if (a.caps.has(RUN_WITH)) {
            a.add("-run-with", (chroot == null ? "" : "chroot=" + QemuOpts.escape(chroot) + ",") + "user="
                    + QemuOpts.escape(user));
        } else if (a.caps.has(RUNAS)) {
            if (chroot != null) {
                a.add("-run-with", "chroot=" + QemuOpts.escape(chroot));
            }
            a.add("-runas", user);
        } else {
            throw new HypervisorException("This QEMU can neither -runas nor -run-with user=: cannot run as " + user);
        }
    }
}
