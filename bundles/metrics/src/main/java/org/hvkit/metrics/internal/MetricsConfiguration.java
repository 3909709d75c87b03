package org.hvkit.metrics.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The metatype of {@value MetricsSettings#PID} (what {@code config:edit} and the web console
 * describe). The components read the keys through {@link MetricsSettings#from}, which names the
 * key and the allowed range for a bad value instead of letting SCR coerce it.
 */
@ObjectClassDefinition(id = MetricsSettings.PID, name = "hvkit metrics",
        description = "Bounds of the JMX MBeans and the Prometheus /metrics endpoint (etc/org.hvkit.metrics.cfg)."
                + " A value out of range keeps both components inactive until it is fixed.")
@interface MetricsConfiguration {

    @AttributeDefinition(name = "Scrape timeout (s)", min = "1", max = "300",
            description = "How long one GET /metrics waits for the nodes' statistics in all; a node that has not"
                    + " answered by then is left out (hvkit_node_scrape_complete 0). Keep it below Prometheus'"
                    + " scrape_timeout (10 s by default).")
    int scrape_timeout_seconds() default 8;

    @AttributeDefinition(name = "JMX refresh (s)", min = "1", max = "3600",
            description = "How often the Instance MBeans are matched to the running instances (a stopped"
                    + " instance's MBean goes within this time even when nobody reads the Hypervisor MBean).")
    int jmx_refresh_seconds() default 5;

    @AttributeDefinition(name = "Instance MBean cache (ms)", min = "0", max = "60000",
            description = "How long one statistics reading serves the attribute reads of an Instance MBean"
                    + " (0: every attribute read asks the hypervisor).")
    int jmx_cache_millis() default 2000;
}
