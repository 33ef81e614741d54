package io.messagestore.loadtest.report;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The result of one run, with ghz's fields and units (durations in nanoseconds, histogram
 * marks in seconds). Fields after {@code tags} are this tool's additions; ghz readers ignore them.
 *
 * @param endReason "normal" (-n reached), "timeout" (-z reached) or "cancel" (interrupted)
 * @param date when the run started
 * @param options the settings of the run, with ghz's option names
 * @param count recorded calls, successful or not
 * @param totalNanos wall time of the recorded part of the run
 * @param averageNanos mean latency over every recorded call, failed ones included (as ghz), so
 *                     with failures it may lie outside fastest..slowest
 * @param fastestNanos fastest successful call, exact
 * @param slowestNanos slowest successful call, exact; percentiles and histogram lie between the two
 * @param rps recorded calls per second of wall time
 * @param cpuPerCallMicros this process's CPU time divided by the calls it made, or null
 * @param operations per-operation reports of a scenario, or empty
 * @param persistenceLag time from acknowledgement to PostgreSQL commit, or null
 * @param watch WatchThread streams and their delivery delay, or null
 */
public record Report(
        String name,
        String endReason,
        Instant date,
        Map<String, Object> options,
        long count,
        long totalNanos,
        long averageNanos,
        long fastestNanos,
        long slowestNanos,
        double rps,
        Map<String, Long> errorDistribution,
        Map<String, Long> statusCodeDistribution,
        List<LatencyPercentile> latencyDistribution,
        List<Bucket> histogram,
        Map<String, String> tags,
        Double cpuPerCallMicros,
        List<SeriesPoint> series,
        CallDetails details,
        Map<String, Report> operations,
        PersistenceLag persistenceLag,
        WatchDelivery watch) {

    /** ghz: {"percentage": 50, "latency": nanoseconds}. */
    public record LatencyPercentile(int percentage, long latencyNanos) { }

    /** ghz: {"mark": seconds, "count": n, "frequency": fraction}. */
    public record Bucket(double markSeconds, long count, double frequency) { }

    /**
     * Acknowledgement-to-commit lag of sampled messages.
     *
     * @param source "watch" (MESSAGE_PERSISTED events) or "postgres" (polling)
     * @param sampled messages sampled
     * @param persisted sampled messages seen committed
     */
    public record PersistenceLag(String source, long sampled, long persisted, long p50Nanos, long p99Nanos,
                                 long maxNanos, long pollIntervalNanos) { }

    /**
     * WatchThread streams held during a run and the delivery delay of MESSAGE_CONFIRMED events
     * (arrival minus the message's created_at), over messages created after the measurement began.
     *
     * @param streams streams opened
     * @param established streams that got at least one event
     * @param statusCodeDistribution how the streams ended; held until the run ended them = OK
     * @param errorDistribution the ends that were not OK, ghz's way
     * @param events events received by type name (THREAD_DELETED, ...), all streams together
     * @param delivered MESSAGE_CONFIRMED events measured
     */
    public record WatchDelivery(long streams, long established, Map<String, Long> statusCodeDistribution,
                                Map<String, Long> errorDistribution, Map<String, Long> events, long delivered,
                                long p50Nanos, long p90Nanos, long p99Nanos, long maxNanos, long meanNanos) { }

    /** The latency at a ghz percentile (10, 25, 50, 75, 90, 95, 99), or 0 when none. */
    public long latencyAt(int percentage) {
        for (LatencyPercentile p : latencyDistribution) {
            if (p.percentage() == percentage) {
                return p.latencyNanos();
            }
        }
        return 0;
    }

    /** Builds a report from recorded stats, the ghz way. */
    public static Report from(RunStats.Snapshot stats, String name, String endReason, Instant date,
                              Map<String, Object> options, long totalNanos, Map<String, String> tags,
                              Double cpuPerCallMicros) {
        Map<String, Long> statusCodes = statusCodeDistribution(stats.statusCounts());
        long count = stats.count();
        long fastest = stats.okFastestNanos();
        long slowest = stats.okSlowestNanos();
        return new Report(name, endReason, date, options, count, totalNanos,
                count == 0 ? 0 : stats.latencySumNanos() / count, fastest, slowest,
                totalNanos <= 0 ? 0 : count / (totalNanos / 1e9),
                stats.errorCounts(), statusCodes,
                ReportMath.latencyDistribution(stats.okLatencies(), fastest, slowest),
                ReportMath.histogram(stats.okLatencies(), fastest, slowest),
                tags, cpuPerCallMicros, stats.series(), stats.details(), Map.of(), null, null);
    }

    /** ghz's statusCodeDistribution: status name to count, of the codes that occurred. */
    public static Map<String, Long> statusCodeDistribution(long[] countsByCode) {
        Map<String, Long> statusCodes = new LinkedHashMap<>();
        for (int code = 0; code < countsByCode.length; code++) {
            if (countsByCode[code] > 0) {
                statusCodes.put(StatusNames.ofValue(code), countsByCode[code]);
            }
        }
        return statusCodes;
    }

    public Report withOperations(Map<String, Report> byOperation) {
        return new Report(name, endReason, date, options, count, totalNanos, averageNanos, fastestNanos,
                slowestNanos, rps, errorDistribution, statusCodeDistribution, latencyDistribution, histogram,
                tags, cpuPerCallMicros, series, details, byOperation, persistenceLag, watch);
    }

    public Report withPersistenceLag(PersistenceLag lag) {
        return new Report(name, endReason, date, options, count, totalNanos, averageNanos, fastestNanos,
                slowestNanos, rps, errorDistribution, statusCodeDistribution, latencyDistribution, histogram,
                tags, cpuPerCallMicros, series, details, operations, lag, watch);
    }

    public Report withName(String newName) {
        return new Report(newName, endReason, date, options, count, totalNanos, averageNanos, fastestNanos,
                slowestNanos, rps, errorDistribution, statusCodeDistribution, latencyDistribution, histogram,
                tags, cpuPerCallMicros, series, details, operations, persistenceLag, watch);
    }

    public Report withWatch(WatchDelivery delivery) {
        return new Report(name, endReason, date, options, count, totalNanos, averageNanos, fastestNanos,
                slowestNanos, rps, errorDistribution, statusCodeDistribution, latencyDistribution, histogram,
                tags, cpuPerCallMicros, series, details, operations, persistenceLag, delivery);
    }
}
