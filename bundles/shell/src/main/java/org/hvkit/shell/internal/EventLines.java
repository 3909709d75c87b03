package org.hvkit.shell.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.hvkit.hypervisor.InstanceEvents;

/** What {@code hv:events} subscribes to and prints: the EventAdmin filter and one line per event. */
final class EventLines {

    private EventLines() {
    }

    /** An LDAP filter on the event properties, or null for all events; values are escaped (RFC 4515). */
    static String filter(String type, String node, String instance) {
        List<String> terms = new ArrayList<>();
        if (type != null) {
            terms.add("(" + InstanceEvents.TYPE + "=" + escape(type) + ")");
        }
        if (node != null) {
            terms.add("(" + InstanceEvents.NODE + "=" + escape(node) + ")");
        }
        if (instance != null) {
            terms.add("(" + InstanceEvents.INSTANCE + "=" + escape(instance) + ")");
        }
        if (terms.isEmpty()) {
            return null;
        }
        return terms.size() == 1 ? terms.get(0) : "(&" + String.join("", terms) + ")";
    }

    private static String escape(String v) {
        StringBuilder b = new StringBuilder(v.length());
        for (char c : v.toCharArray()) {
            if (c == '\\' || c == '*' || c == '(' || c == ')' || c == 0) {
                b.append(String.format("\\%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * One event as a line: time, node, type, instance, what (the topic below
     * {@code org/hvkit/instance/}), then pid, reason and any migration or device figures. Control
     * characters in values are shown as {@code ?} (an event must not drive the terminal).
     */
    static String line(String topic, Map<String, ?> p) {
        String what = topic.startsWith(InstanceEvents.PREFIX) ? topic.substring(InstanceEvents.PREFIX.length()) : topic;
        Object ts = p.get(InstanceEvents.TIMESTAMP);
        StringBuilder b = new StringBuilder();
        b.append(ts instanceof Long l ? Instant.ofEpochMilli(l).toString() : "-").append("  ")
                .append(text(p.get(InstanceEvents.NODE))).append("  ")
                .append(text(p.get(InstanceEvents.TYPE))).append("  ")
                .append(text(p.get(InstanceEvents.INSTANCE))).append("  ")
                .append(what);
        for (String key : List.of(InstanceEvents.PID, InstanceEvents.REASON, InstanceEvents.PHASE,
                InstanceEvents.TRANSFERRED, InstanceEvents.TOTAL, InstanceEvents.TARGET, InstanceEvents.DEVICE,
                InstanceEvents.MAC, InstanceEvents.LINK, InstanceEvents.PATH)) {
            if (p.get(key) != null) {
                b.append("  ").append(key).append('=').append(text(p.get(key)));
            }
        }
        return b.toString();
    }

    private static String text(Object v) {
        if (v == null) {
            return "-";
        }
        String s = v.toString();
        StringBuilder b = new StringBuilder(Math.min(s.length(), 200));
        for (int i = 0; i < s.length() && i < 200; i++) {
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        return b.toString();
    }
}
