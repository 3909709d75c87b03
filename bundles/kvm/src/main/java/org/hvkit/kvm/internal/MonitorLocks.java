package org.hvkit.kvm.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * QEMU's QMP socket serves one client at a time; a second connection waits unanswered. The
 * component's own users therefore queue per instance, and best-effort readers (status for
 * {@code hv:list}, migration progress) only {@code tryLock}.
 */
final class MonitorLocks {

    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    ReentrantLock of(String instance) {
        return locks.computeIfAbsent(instance, n -> new ReentrantLock());
    }
}
