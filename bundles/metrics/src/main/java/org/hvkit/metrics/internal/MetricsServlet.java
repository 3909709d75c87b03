package org.hvkit.metrics.internal;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import io.prometheus.client.Collector.MetricFamilySamples;
import io.prometheus.client.SampleNameFilter;
import io.prometheus.client.exporter.common.TextFormat;

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
 * {@code GET /metrics}: every node's instance statistics, written by the Prometheus Java client
 * ({@code simpleclient_common}'s {@link TextFormat}) in the format the scraper asks for in its
 * {@code Accept} header — OpenMetrics 1.0 or else the text format 0.0.4 — and restricted to the
 * series a {@code name[]} parameter names, as the client's own exporters do. Registered with the
 * OSGi HTTP Whiteboard (Karaf's {@code http} + {@code http-whiteboard} features, Pax Web). A scrape is bounded as a whole by {@code scrape.timeout.seconds} of
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
        List<MetricFamilySamples> families;
        try {
            families = scrape();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            resp.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE, "interrupted");
            return;
        }
        String type = TextFormat.chooseContentType(req.getHeader("Accept"));
        byte[] bytes = text(type, named(families, req.getParameterValues("name[]"))).getBytes(StandardCharsets.UTF_8);
        resp.setStatus(HttpServletResponse.SC_OK);
        resp.setContentType(type);
        resp.setContentLength(bytes.length);
        resp.getOutputStream().write(bytes);
    }

    /** One bounded pass over the nodes registered now, as metric families. */
    List<MetricFamilySamples> scrape() throws InterruptedException {
        return families(new ArrayList<>(sources), scrape, bound);
    }

    /** The text format 0.0.4 of one pass over the nodes registered now (tests and tools). */
    String scrapeText() throws InterruptedException {
        return text(TextFormat.CONTENT_TYPE_004, scrape());
    }

    /** The families of one bounded pass over {@code sources}. */
    static List<MetricFamilySamples> families(List<BoundedScrape.Source> sources, BoundedScrape scrape, Duration bound)
            throws InterruptedException {
        BoundedScrape.Result r = scrape.run(sources, bound);
        return PrometheusFamilies.of(r.stats(), r.complete(), r.seconds());
    }

    /** {@code families} in the format of {@code contentType} (one of {@link TextFormat}'s). */
    static String text(String contentType, List<MetricFamilySamples> families) {
        StringWriter w = new StringWriter();
        try {
            TextFormat.writeFormat(contentType, w, Collections.enumeration(families));
        } catch (IOException e) {
            throw new IllegalStateException("a StringWriter does not fail", e);
        }
        return w.toString();
    }

    /**
     * Only the series {@code names} lists (Prometheus' {@code name[]} query parameter), every
     * series when it lists none; families left without a sample are dropped.
     */
    static List<MetricFamilySamples> named(List<MetricFamilySamples> families, String[] names) {
        if (names == null || names.length == 0) {
            return families;
        }
        var only = SampleNameFilter.restrictToNamesEqualTo(null, List.of(names));
        List<MetricFamilySamples> kept = new ArrayList<>();
        for (MetricFamilySamples f : families) {
            MetricFamilySamples k = f.filter(only);
            if (k != null && !k.samples.isEmpty()) {
                kept.add(k);
            }
        }
        return kept;
    }
}
