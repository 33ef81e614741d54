package io.messagestore.loadtest.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * One self-contained HTML page: the report data is embedded as JSON and drawn as inline SVG
 * by an inline script, so the page opens offline and from a CI artifact store.
 */
public final class HtmlReportWriter {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String TEMPLATE = loadTemplate();

    private HtmlReportWriter() {
    }

    public static void write(Report report, Writer out) throws IOException {
        ObjectNode data = MAPPER.createObjectNode();
        data.put("meta", meta(report));
        ArrayNode sections = data.putArray("sections");
        addSection(sections, report.name() == null || report.name().isEmpty() ? callOf(report) : report.name(), report);
        for (Map.Entry<String, Report> op : report.operations().entrySet()) {
            addSection(sections, "Operation: " + op.getKey(), op.getValue());
        }
        render(title(report), data, out);
    }

    public static void write(Comparison comparison, Writer out) throws IOException {
        ObjectNode data = MAPPER.createObjectNode();
        data.put("meta", meta(comparison.target()));
        data.putObject("ratios")
                .put("throughput", comparison.throughputRatio())
                .put("p50", comparison.p50Ratio())
                .put("p99", comparison.p99Ratio());
        ArrayNode sections = data.putArray("sections");
        addSection(sections, "Baseline: " + callOf(comparison.baseline()), comparison.baseline());
        addSection(sections, "Target: " + callOf(comparison.target()), comparison.target());
        render("Comparison: " + callOf(comparison.target()) + " vs " + callOf(comparison.baseline()), data, out);
    }

    private static void addSection(ArrayNode sections, String title, Report report) {
        ObjectNode json = JsonReportWriter.toJson(report);
        // per-call details and nested operations are not drawn; keep the page small
        json.remove("details");
        json.remove("operations");
        sections.addObject().put("title", title).set("report", json);
    }

    private static void render(String title, ObjectNode data, Writer out) throws IOException {
        // "</" inside a script element would end it early; JSON allows the escaped form.
        String json = MAPPER.writeValueAsString(data).replace("</", "<\\/");
        out.write(TEMPLATE.replace("__TITLE__", escapeHtml(title)).replace("__DATA__", json));
        out.flush();
    }

    private static String title(Report report) {
        String base = report.name() == null || report.name().isEmpty() ? callOf(report) : report.name();
        return "Load test: " + base;
    }

    private static String callOf(Report report) {
        Object call = report.options().get("call");
        return call == null ? "run" : call.toString();
    }

    private static String meta(Report report) {
        StringBuilder meta = new StringBuilder();
        meta.append(DateTimeFormatter.ISO_INSTANT.format(report.date()));
        Object host = report.options().get("host");
        if (host != null) {
            meta.append(" · host ").append(host);
        }
        for (String key : new String[] {"concurrency", "connections", "rps", "total", "duration", "timeout"}) {
            Object value = report.options().get(key);
            if (value != null) {
                boolean isDuration = key.equals("duration") || key.equals("timeout");
                meta.append(" · ").append(key).append(' ')
                        .append(isDuration && value instanceof Number n ? SummaryWriter.duration(n.longValue()) : value);
            }
        }
        if (report.tags() != null) {
            report.tags().forEach((k, v) -> meta.append(" · ").append(k).append('=').append(v));
        }
        return meta.toString();
    }

    private static String escapeHtml(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String loadTemplate() {
        try (InputStream in = HtmlReportWriter.class.getResourceAsStream("report.html")) {
            if (in == null) {
                throw new IllegalStateException("report.html missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
