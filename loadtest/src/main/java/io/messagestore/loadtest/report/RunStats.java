package io.messagestore.loadtest.report;

import io.grpc.Status;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Collects the outcome of every recorded call. Recording is wait-free for the callers
 * (HdrHistogram Recorder, LongAdders, an array of status counters); a single sampler thread
 * moves the interval histograms into the run total and the latency-over-time series.
 */
public final class RunStats {

    /** Series longer than this are halved by merging neighbours, so any run length fits a chart. */
    private static final int MAX_SERIES_POINTS = 600;

    private final Recorder okLatencies = new Recorder(3);
    private final LongAdder count = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder latencySum = new LongAdder();
    // The histogram keeps each latency only to 3 significant digits, while the average is an
    // exact sum: the exact extremes bound everything reported from the histogram, so no figure
    // can fall outside fastest..slowest (one call: all equal). Unchanged extremes cost no CAS.
    private final LongAccumulator okFastest = new LongAccumulator(Math::min, Long.MAX_VALUE);
    private final LongAccumulator okSlowest = new LongAccumulator(Math::max, Long.MIN_VALUE);
    private final AtomicLongArray statusCounts = new AtomicLongArray(StatusNames.codeCount());
    private final ConcurrentHashMap<String, LongAdder> errorCounts = new ConcurrentHashMap<>();
    private final CallDetails details;

    // sampler state, guarded by this
    private final Histogram total = new Histogram(3);
    private final Histogram seriesInterval = new Histogram(3);
    private Histogram recycled;
    private final List<SeriesPoint> series = new ArrayList<>();
    private long seriesIntervalNanos;
    private long startNanos;
    private long intervalStartNanos;
    private long countAtIntervalStart;
    private long errorsAtIntervalStart;

    public RunStats(boolean keepDetails, long seriesIntervalNanos) {
        this.details = keepDetails ? new CallDetails() : null;
        this.seriesIntervalNanos = Math.max(1_000_000L, seriesIntervalNanos);
    }

    /** Sets time zero of the latency-over-time series. */
    public synchronized void start(long startNanos) {
        this.startNanos = startNanos;
        this.intervalStartNanos = startNanos;
    }

    /** Records one call; safe from any thread. */
    public void record(long latencyNanos, Status status) {
        long latency = Math.max(0, latencyNanos);
        count.increment();
        latencySum.add(latency);
        statusCounts.incrementAndGet(status.getCode().value());
        String errorText = null;
        if (status.isOk()) {
            okLatencies.recordValue(latency);
            okFastest.accumulate(latency);
            okSlowest.accumulate(latency);
        } else {
            errors.increment();
            errorText = StatusNames.errorText(status);
            errorCounts.computeIfAbsent(errorText, k -> new LongAdder()).increment();
        }
        if (details != null) {
            details.add(System.currentTimeMillis(), latency, status.getCode().value(), errorText);
        }
    }

    public long count() {
        return count.sum();
    }

    public long errors() {
        return errors.sum();
    }

    /** Moves recorded latencies into the totals; closes a series interval when it is due. */
    public synchronized void sample(long nowNanos) {
        recycled = okLatencies.getIntervalHistogram(recycled);
        total.add(recycled);
        seriesInterval.add(recycled);
        if (nowNanos - intervalStartNanos >= seriesIntervalNanos) {
            closeInterval(nowNanos);
        }
    }

    private void closeInterval(long nowNanos) {
        long countNow = count.sum();
        long errorsNow = errors.sum();
        Histogram h = seriesInterval;
        boolean any = h.getTotalCount() > 0;
        series.add(new SeriesPoint((nowNanos - startNanos) / 1_000_000L,
                (nowNanos - intervalStartNanos) / 1_000_000L,
                countNow - countAtIntervalStart, errorsNow - errorsAtIntervalStart,
                any ? (long) h.getMean() : 0,
                any ? ReportMath.valueAtRank(h, ReportMath.rank(50, h.getTotalCount())) : 0,
                any ? ReportMath.valueAtRank(h, ReportMath.rank(99, h.getTotalCount())) : 0,
                any ? ReportMath.valueAtRank(h, h.getTotalCount()) : 0));
        h.reset();
        countAtIntervalStart = countNow;
        errorsAtIntervalStart = errorsNow;
        intervalStartNanos = nowNanos;
        if (series.size() > MAX_SERIES_POINTS) {
            List<SeriesPoint> merged = new ArrayList<>();
            for (int i = 0; i + 1 < series.size(); i += 2) {
                merged.add(series.get(i).mergeWith(series.get(i + 1)));
            }
            if (series.size() % 2 == 1) {
                merged.add(series.get(series.size() - 1));
            }
            series.clear();
            series.addAll(merged);
            seriesIntervalNanos *= 2;
        }
    }

    /** Takes the final sample and returns everything recorded. */
    public synchronized Snapshot finish(long endNanos) {
        recycled = okLatencies.getIntervalHistogram(recycled);
        total.add(recycled);
        seriesInterval.add(recycled);
        if (count.sum() > countAtIntervalStart || seriesInterval.getTotalCount() > 0 || series.isEmpty()) {
            closeInterval(endNanos);
        }
        long[] statuses = new long[statusCounts.length()];
        for (int i = 0; i < statuses.length; i++) {
            statuses[i] = statusCounts.get(i);
        }
        Map<String, Long> errorMap = new LinkedHashMap<>();
        errorCounts.entrySet().stream()
                .sorted((a, b) -> Long.compare(b.getValue().sum(), a.getValue().sum()))
                .forEach(e -> errorMap.put(e.getKey(), e.getValue().sum()));
        boolean anyOk = total.getTotalCount() > 0;
        long fastest = anyOk ? okFastest.get() : 0;
        long slowest = anyOk ? okSlowest.get() : 0;
        return new Snapshot(total.copy(), fastest, slowest, count.sum(), latencySum.sum(), statuses, errorMap,
                series.stream().map(point -> point.boundedBy(fastest, slowest)).toList(), details);
    }

    /**
     * Everything a report is computed from.
     *
     * @param okLatencies latencies of successful calls, nanoseconds, to 3 significant digits
     * @param okFastestNanos the exact fastest successful call, 0 when none
     * @param okSlowestNanos the exact slowest successful call, 0 when none
     * @param count every recorded call, successful or not
     * @param latencySumNanos sum of the latencies of every recorded call
     * @param statusCounts calls per gRPC status code value
     * @param errorCounts calls per grpc-go style error text
     */
    public record Snapshot(Histogram okLatencies, long okFastestNanos, long okSlowestNanos, long count,
                           long latencySumNanos, long[] statusCounts, Map<String, Long> errorCounts,
                           List<SeriesPoint> series, CallDetails details) {
    }
}
