package org.hvkit.kvm.internal.events;

import java.util.Map;

/**
 * Where the KVM driver's instance events go: {@link EventAdminSink} posts them to OSGi
 * EventAdmin when Karaf's {@code eventadmin} feature is installed; without it there is no sink
 * and events are only logged. An internal service of this bundle, so that the rest of the
 * bundle never loads an EventAdmin class (the package import is optional).
 */
public interface InstanceEventSink {

    /** Delivers one event asynchronously; must not block and must not throw. */
    void publish(String topic, Map<String, Object> properties);
}
