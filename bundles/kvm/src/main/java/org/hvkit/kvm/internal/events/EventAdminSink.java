package org.hvkit.kvm.internal.events;

import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;

/**
 * Posts the KVM driver's instance events to OSGi EventAdmin ({@code postEvent}: asynchronous,
 * in order per publisher). Satisfied only when an EventAdmin service exists; the bundle imports
 * {@code org.osgi.service.event} optionally, so without Karaf's {@code eventadmin} feature this
 * component simply stays unsatisfied and the KVM hypervisor runs without events.
 */
@Component(service = InstanceEventSink.class)
public final class EventAdminSink implements InstanceEventSink {

    private final EventAdmin eventAdmin;

    @Activate
    public EventAdminSink(@Reference EventAdmin eventAdmin) {
        this.eventAdmin = eventAdmin;
    }

    @Override
    public void publish(String topic, Map<String, Object> properties) {
        eventAdmin.postEvent(new Event(topic, properties));
    }
}
