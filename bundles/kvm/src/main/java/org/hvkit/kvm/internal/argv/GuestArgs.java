package org.hvkit.kvm.internal.argv;

import static org.hvkit.kvm.internal.params.KvmParameters.INITRD_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.KERNEL_ARGS;
import static org.hvkit.kvm.internal.params.KvmParameters.KERNEL_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.MEM_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.ROOT_PATH;
import static org.hvkit.kvm.internal.params.KvmParameters.SERIAL_CONSOLE;
import static org.hvkit.kvm.internal.params.KvmParameters.SERIAL_SPEED;
import static org.hvkit.kvm.internal.params.KvmParameters.USE_LOCALTIME;
import static org.hvkit.kvm.internal.caps.QemuFeature.LOCALTIME;
import static org.hvkit.kvm.internal.caps.QemuFeature.RTC;

import java.util.ArrayList;
import java.util.List;

/**
 * Direct kernel boot ({@code -kernel}, {@code -initrd}, {@code -append}), guest memory backing
 * ({@code -mem-path}) and the guest clock. These are plain arguments, not option strings: QEMU
 * does not split them at commas, so they go in as they are (control characters were refused by
 * the syntax check).
 */
final class GuestArgs {

    private GuestArgs() {
    }

    static void kernel(Argv a, BootOrder boot) {
        if (!boot.kernel()) {
            return;
        }
        a.add("-kernel", a.str(KERNEL_PATH));
        if (!a.str(INITRD_PATH).isEmpty()) {
            a.add("-initrd", a.str(INITRD_PATH));
        }
        List<String> append = new ArrayList<>();
        append.add("root=" + a.str(ROOT_PATH));
        if (!a.str(KERNEL_ARGS).isEmpty()) {
            append.add(a.str(KERNEL_ARGS));
        }
        if (a.bool(SERIAL_CONSOLE)) {
            append.add("console=ttyS0," + a.hv.get(SERIAL_SPEED));
        }
        a.add("-append", String.join(" ", append));
    }

    static void memory(Argv a) {
        if (!a.str(MEM_PATH).isEmpty()) {
            a.add("-mem-path", a.str(MEM_PATH), "-mem-prealloc");
        }
    }

    static void clock(Argv a) {
        if (!a.bool(USE_LOCALTIME)) {
            return;
        }
        if (a.caps.has(LOCALTIME)) {
            a.add("-localtime");
        } else if (a.caps.has(RTC)) {
            a.add("-rtc", "base=localtime");
        } else {
            a.warn("use_localtime: this QEMU has neither -localtime nor -rtc; the guest clock stays UTC");
        }
    }
}
