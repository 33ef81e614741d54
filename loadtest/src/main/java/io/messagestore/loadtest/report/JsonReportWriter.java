package io.messagestore.loadtest.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.Writer;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * ghz's JSON report: same field names, durations as integer nanoseconds (Go's time.Duration),
 * histogram marks in seconds, the date in RFC 3339. Extra fields are additions ghz ignores.
 */
public final class JsonReportWriter {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(com.fasterxml.jackson.core.JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);

    private JsonReportWriter() {
    }

    /** Compact like ghz's "json" format, or indented like its "pretty". */
    public static void write(Report report, Writer out, boolean pretty) throws IOException {
        writer(pretty).writeValue(out, toJson(report));
        out.write('\n');
        out.flush();
    }

    public static void write(Comparison comparison, Writer out, boolean pretty) throws IOException {
        writer(pretty).writeValue(out, toJson(comparison));
        out.write('\n');
        out.flush();
    }

    private static com.fasterxml.jackson.databind.ObjectWriter writer(boolean pretty) {
        return pretty ? MAPPER.writer().with(SerializationFeature.INDENT_OUTPUT) : MAPPER.writer();
    }

    public static ObjectNode toJson(Comparison comparison) {
        ObjectNode root = MAPPER.createObjectNode();
        root.set("baseline", toJson(comparison.baseline()));
        root.set("target", toJson(comparison.target()));
        ObjectNode ratios = root.putObject("ratios");
        ratios.put("throughput", comparison.throughputRatio());
        ratios.put("p50", comparison.p50Ratio());
        ratios.put("p99", comparison.p99Ratio());
        return root;
    }

    public static ObjectNode toJson(Report report) {
        ObjectNode root = MAPPER.createObjectNode();
        if (report.name() != null && !report.name().isEmpty()) {
            root.put("name", report.name());
        }
        root.put("endReason", report.endReason());
        root.put("date", DateTimeFormatter.ISO_INSTANT.format(report.date()));
        root.set("options", MAPPER.valueToTree(report.options()));
        root.put("count", report.count());
        root.put("total", report.totalNanos());
        root.put("average", report.averageNanos());
        root.put("fastest", report.fastestNanos());
        root.put("slowest", report.slowestNanos());
        root.put("rps", report.rps());
        ObjectNode errors = root.putObject("errorDistribution");
        report.errorDistribution().forEach(errors::put);
        ObjectNode statuses = root.putObject("statusCodeDistribution");
        report.statusCodeDistribution().forEach(statuses::put);
        ArrayNode latencies = root.putArray("latencyDistribution");
        for (Report.LatencyPercentile p : report.latencyDistribution()) {
            latencies.addObject().put("percentage", p.percentage()).put("latency", p.latencyNanos());
        }
        ArrayNode histogram = root.putArray("histogram");
        for (Report.Bucket b : report.histogram()) {
            histogram.addObject().put("mark", b.markSeconds()).put("count", b.count()).put("frequency", b.frequency());
        }
        if (report.details() != null) {
            ArrayNode details = root.putArray("details");
            report.details().forEach((epochMillis, latency, code, error) -> details.addObject()
                    .put("timestamp", DateTimeFormatter.ISO_INSTANT.format(java.time.Instant.ofEpochMilli(epochMillis)))
                    .put("latency", latency)
                    .put("error", error)
                    .put("status", StatusNames.ofValue(code)));
        }
        if (report.tags() != null && !report.tags().isEmpty()) {
            ObjectNode tags = root.putObject("tags");
            report.tags().forEach(tags::put);
        }
        if (report.cpuPerCallMicros() != null) {
            root.put("cpuPerCallMicros", Math.round(report.cpuPerCallMicros() * 100) / 100.0);
        }
        ArrayNode series = root.putArray("latencyOverTime");
        for (SeriesPoint point : report.series()) {
            series.addObject()
                    .put("offsetMillis", point.offsetMillis())
                    .put("intervalMillis", point.intervalMillis())
                    .put("count", point.count())
                    .put("errors", point.errors())
                    .put("mean", point.meanNanos())
                    .put("p50", point.p50Nanos())
                    .put("p99", point.p99Nanos())
                    .put("max", point.maxNanos());
        }
        if (!report.operations().isEmpty()) {
            ObjectNode operations = root.putObject("operations");
            for (Map.Entry<String, Report> e : report.operations().entrySet()) {
                operations.set(e.getKey(), toJson(e.getValue()));
            }
        }
        Report.PersistenceLag lag = report.persistenceLag();
        if (lag != null) {
            root.putObject("persistenceLag")
                    .put("source", lag.source())
                    .put("sampled", lag.sampled())
                    .put("persisted", lag.persisted())
                    .put("p50", lag.p50Nanos())
                    .put("p99", lag.p99Nanos())
                    .put("max", lag.maxNanos())
                    .put("pollInterval", lag.pollIntervalNanos());
        }
        Report.WatchDelivery watch = report.watch();
        if (watch != null) {
            ObjectNode node = root.putObject("watch");
            node.put("streams", watch.streams()).put("established", watch.established());
            ObjectNode ends = node.putObject("statusCodeDistribution");
            watch.statusCodeDistribution().forEach(ends::put);
            ObjectNode failures = node.putObject("errorDistribution");
            watch.errorDistribution().forEach(failures::put);
            ObjectNode events = node.putObject("events");
            watch.events().forEach(events::put);
            node.put("delivered", watch.delivered());
            node.putObject("delivery")
                    .put("p50", watch.p50Nanos())
                    .put("p90", watch.p90Nanos())
                    .put("p99", watch.p99Nanos())
                    .put("max", watch.maxNanos())
                    .put("mean", watch.meanNanos());
        }
        return root;
    }
}
