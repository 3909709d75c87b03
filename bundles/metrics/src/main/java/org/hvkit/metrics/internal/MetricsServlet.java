package org.hvkit.metrics.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.hvkit.hypervisor.Hypervisor;
import org.hvkit.hypervisor.InstanceStatistics;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;

/**
 * {@code GET /metrics}: every node's instance statistics in the Prometheus text format 0.0.4,
 * registered with the OSGi HTTP Whiteboard (Karaf's {@code http} + {@code http-whiteboard}
 * features, Pax Web). A scrape is bounded as a whole by {@code scrape.timeout.seconds} of
 * {@value MetricsSettings#PID} (8 s by default, below Prometheus' default scrape_timeout of 10 s,
 * so that a slow node never fails the whole scrape): what came back by then is served, a node
 * that did not answer is {@code hvkit_node_scrape_complete 0}. A bad value in that configuration
 * keeps the component inactive: no endpoint.
 */
@Component(service = Servlet.class, configurationPid = MetricsSettings.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, property = {
            "osgi.http.whiteboard.servlet.pattern=/metrics",
            "osgi.http.whiteboard.servlet.name=hvkit-metrics"
        })
@Designate(ocd = MetricsConfiguration.class) // one designation for the PID that JmxExporter reads too
public final class MetricsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    private final transient List<BoundedScrape.Source> sources = new CopyOnWriteArrayList<>();
    private final transient BoundedScrape scrape = new BoundedScrape();
    private final Duration bound;

    @Activate
    public MetricsServlet(Map<String, Object> properties) {
        this.bound = MetricsSettings.forComponent(properties, "/metrics endpoint").scrapeTimeout();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addStatistics(InstanceStatistics statistics, Map<String, Object> properties) {
        sources.add(new BoundedScrape.Source(String.valueOf(properties.get(Hypervisor.NODE_PROPERTY)), statistics));
    }

    void removeStatistics(InstanceStatistics statistics) {
        sources.removeIf(s -> s.statistics() == statistics);
    }

    @Deactivate
    void deactivate() {
        scrape.close();
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String body;
        try {
            body = scrapeText();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            resp.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE, "interrupted");
            return;
        }
        resp.setStatus(HttpServletResponse.SC_OK);
        resp.setContentType(PrometheusText.CONTENT_TYPE);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        resp.setContentLength(bytes.length);
        resp.getOutputStream().write(bytes);
    }

    /** The text of one pass over the nodes registered now, bounded by the configured scrape timeout. */
    String scrapeText() throws InterruptedException {
        return render(new ArrayList<>(sources), scrape, bound);
    }

    /** The text of one bounded pass over {@code sources}. */
    static String render(List<BoundedScrape.Source> sources, BoundedScrape scrape, Duration bound)
            throws InterruptedException {
        BoundedScrape.Result r = scrape.run(sources, bound);
        return PrometheusText.format(r.stats(), r.complete(), r.seconds());
    }
}
