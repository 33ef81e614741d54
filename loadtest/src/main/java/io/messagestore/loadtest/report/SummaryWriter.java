package io.messagestore.loadtest.report;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;

/** ghz's plain-text summary, laid out the same way so that eyes used to ghz find things. */
public final class SummaryWriter {

    private static final int BAR_WIDTH = 40;

    private SummaryWriter() {
    }

    public static void write(Report report, PrintWriter out) {
        out.println();
        out.println("Summary:");
        if (report.name() != null && !report.name().isEmpty()) {
            out.printf("  Name:\t%s%n", report.name());
        }
        out.printf("  Count:\t%d%n", report.count());
        out.printf("  Total:\t%s%n", duration(report.totalNanos()));
        out.printf("  Slowest:\t%s%n", duration(report.slowestNanos()));
        out.printf("  Fastest:\t%s%n", duration(report.fastestNanos()));
        out.printf("  Average:\t%s%n", duration(report.averageNanos()));
        out.printf(Locale.ROOT, "  Requests/sec:\t%.2f%n", report.rps());
        if (report.cpuPerCallMicros() != null) {
            out.printf(Locale.ROOT, "  Tool CPU/call:\t%.1f µs%n", report.cpuPerCallMicros());
        }
        if (!report.histogram().isEmpty()) {
            out.println();
            out.println("Response time histogram:");
            long max = report.histogram().stream().mapToLong(Report.Bucket::count).max().orElse(1);
            for (Report.Bucket bucket : report.histogram()) {
                int bar = max == 0 ? 0 : (int) (bucket.count() * BAR_WIDTH / max);
                out.printf(Locale.ROOT, "  %-9.3f [%d]\t|%s%n", bucket.markSeconds() * 1000, bucket.count(),
                        "∎".repeat(bar));
            }
            out.println();
            out.println("Latency distribution:");
            for (Report.LatencyPercentile p : report.latencyDistribution()) {
                out.printf("  %d %% in %s %n", p.percentage(), duration(p.latencyNanos()));
            }
        }
        out.println();
        out.println("Status code distribution:");
        for (Map.Entry<String, Long> e : report.statusCodeDistribution().entrySet()) {
            out.printf("  [%s]\t%d responses%n", e.getKey(), e.getValue());
        }
        if (!report.errorDistribution().isEmpty()) {
            out.println();
            out.println("Error distribution:");
            for (Map.Entry<String, Long> e : report.errorDistribution().entrySet()) {
                out.printf("  [%d]\t%s%n", e.getValue(), e.getKey());
            }
        }
        Report.PersistenceLag lag = report.persistenceLag();
        if (lag != null) {
            out.println();
            out.printf("Persistence lag (%s, ack -> PostgreSQL commit):%n", lag.source());
            out.printf("  Sampled:\t%d, persisted: %d%n", lag.sampled(), lag.persisted());
            out.printf("  p50:\t%s%n  p99:\t%s%n  max:\t%s%n", duration(lag.p50Nanos()), duration(lag.p99Nanos()),
                    duration(lag.maxNanos()));
            if (lag.pollIntervalNanos() > 0) {
                out.printf("  (resolution: poll interval %s)%n", duration(lag.pollIntervalNanos()));
            }
        }
        Report.WatchDelivery watch = report.watch();
        if (watch != null) {
            out.println();
            out.println("WatchThread delivery (MESSAGE_CONFIRMED arrival - message created_at):");
            out.printf("  Streams:\t%d, established: %d%n", watch.streams(), watch.established());
            for (Map.Entry<String, Long> e : watch.statusCodeDistribution().entrySet()) {
                out.printf("  [%s]\t%d streams%n", e.getKey(), e.getValue());
            }
            for (Map.Entry<String, Long> e : watch.errorDistribution().entrySet()) {
                out.printf("  [%d]\t%s%n", e.getValue(), e.getKey());
            }
            for (Map.Entry<String, Long> e : watch.events().entrySet()) {
                out.printf("  %s:\t%d events%n", e.getKey(), e.getValue());
            }
            out.printf("  Delivered:\t%d measured%n", watch.delivered());
            out.printf("  p50:\t%s%n  p90:\t%s%n  p99:\t%s%n  max:\t%s%n", duration(watch.p50Nanos()),
                    duration(watch.p90Nanos()), duration(watch.p99Nanos()), duration(watch.maxNanos()));
        }
        for (Map.Entry<String, Report> op : report.operations().entrySet()) {
            Report r = op.getValue();
            out.println();
            boolean anyOk = !r.latencyDistribution().isEmpty();
            out.printf(Locale.ROOT, "Operation %s: count %d, errors %d, rps %.2f, avg %s, p50 %s, p99 %s%n",
                    op.getKey(), r.count(), r.errorDistribution().values().stream().mapToLong(Long::longValue).sum(),
                    r.rps(), duration(r.averageNanos()), anyOk ? duration(r.latencyAt(50)) : "-",
                    anyOk ? duration(r.latencyAt(99)) : "-");
            for (Map.Entry<String, Long> e : r.statusCodeDistribution().entrySet()) {
                out.printf("  [%s]\t%d responses%n", e.getKey(), e.getValue());
            }
        }
        out.println();
        out.flush();
    }

    public static void write(Comparison comparison, PrintWriter out) {
        out.println();
        out.println("Baseline: " + label(comparison.baseline()));
        write(comparison.baseline(), out);
        out.println("Target: " + label(comparison.target()));
        write(comparison.target(), out);
        out.println("Comparison (target / baseline):");
        out.printf(Locale.ROOT, "  Throughput:\t%.3f  (%.2f vs %.2f req/s)%n", comparison.throughputRatio(),
                comparison.target().rps(), comparison.baseline().rps());
        out.printf(Locale.ROOT, "  p50 latency:\t%.3f  (%s vs %s)%n", comparison.p50Ratio(),
                duration(comparison.target().latencyAt(50)), duration(comparison.baseline().latencyAt(50)));
        out.printf(Locale.ROOT, "  p99 latency:\t%.3f  (%s vs %s)%n", comparison.p99Ratio(),
                duration(comparison.target().latencyAt(99)), duration(comparison.baseline().latencyAt(99)));
        out.println();
        out.flush();
    }

    /** The run's --name, else its method: the runs of a comparison usually have no name. */
    private static String label(Report report) {
        if (report.name() != null && !report.name().isEmpty()) {
            return report.name();
        }
        return String.valueOf(report.options().getOrDefault("call", "run"));
    }

    /** Durations the way ghz prints them: milliseconds with two decimals, seconds above 10 s. */
    public static String duration(long nanos) {
        if (nanos >= 10_000_000_000L) {
            return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
        }
        return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
    }
}
