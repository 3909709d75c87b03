package org.hvkit.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.LinkedHashMap;
import java.util.Map;

import org.hvkit.hypervisor.InstanceEvents;
import org.junit.jupiter.api.Test;

class EventLinesTest {

    @Test
    void filterEscapesWhatTheUserTyped() {
        assertNull(EventLines.filter(null, null, null));
        assertEquals("(node=n1)", EventLines.filter(null, "n1", null));
        assertEquals("(&(type=kvm)(node=a\\2a\\28b\\29\\5c)(instance=web1))",
                EventLines.filter("kvm", "a*(b)\\", "web1"));
    }

    @Test
    void oneLinePerEventWithoutControlCharacters() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put(InstanceEvents.TIMESTAMP, 0L);
        p.put(InstanceEvents.NODE, "n1");
        p.put(InstanceEvents.TYPE, "kvm");
        p.put(InstanceEvents.INSTANCE, "web1");
        p.put(InstanceEvents.PID, 42L);
        p.put(InstanceEvents.REASON, "qemu-shutdown:\u001b[2Jx");
        assertEquals("1970-01-01T00:00:00Z  n1  kvm  web1  CRASHED  pid=42  reason=qemu-shutdown:?[2Jx",
                EventLines.line(InstanceEvents.CRASHED, p));
        p.remove(InstanceEvents.TIMESTAMP);
        p.put(InstanceEvents.REASON, "active");
        p.put(InstanceEvents.TRANSFERRED, 1024L);
        p.put(InstanceEvents.TARGET, "tcp:n2:8102");
        assertEquals("-  n1  kvm  web1  migration/PROGRESS  pid=42  reason=active  transferred=1024  target=tcp:n2:8102",
                EventLines.line(InstanceEvents.MIGRATION_PROGRESS, p));
    }

    @Test
    void aDiskEventNamesItsPath() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put(InstanceEvents.NODE, "n1");
        p.put(InstanceEvents.TYPE, "kvm");
        p.put(InstanceEvents.INSTANCE, "web1");
        p.put(InstanceEvents.REASON, "hot-add");
        p.put(InstanceEvents.DEVICE, "disk");
        p.put(InstanceEvents.PATH, "/srv/disks/web1-1.img");
        assertEquals("-  n1  kvm  web1  device/ADDED  reason=hot-add  device=disk  path=/srv/disks/web1-1.img",
                EventLines.line(InstanceEvents.DEVICE_ADDED, p));
    }
}
