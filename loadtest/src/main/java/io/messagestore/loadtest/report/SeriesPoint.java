package io.messagestore.loadtest.report;

/**
 * One interval of the latency-over-time series.
 *
 * @param offsetMillis end of the interval, from the start of the run
 * @param intervalMillis length of the interval
 * @param count calls completed in the interval (all statuses)
 * @param errors calls that failed in the interval
 * @param meanNanos mean latency of the successful calls
 * @param p50Nanos median latency of the successful calls
 * @param p99Nanos 99th percentile latency of the successful calls
 * @param maxNanos slowest successful call
 */
public record SeriesPoint(long offsetMillis, long intervalMillis, long count, long errors,
                          long meanNanos, long p50Nanos, long p99Nanos, long maxNanos) {

    /**
     * This point with its latencies moved into the run's exact fastest..slowest, which the
     * histogram's rounding can overstep; a point without successful calls stays all zero.
     */
    SeriesPoint boundedBy(long fastestNanos, long slowestNanos) {
        if (maxNanos == 0) {
            return this;
        }
        return new SeriesPoint(offsetMillis, intervalMillis, count, errors,
                ReportMath.bounded(meanNanos, fastestNanos, slowestNanos),
                ReportMath.bounded(p50Nanos, fastestNanos, slowestNanos),
                ReportMath.bounded(p99Nanos, fastestNanos, slowestNanos),
                ReportMath.bounded(maxNanos, fastestNanos, slowestNanos));
    }

    /** Two adjacent points as one. Percentiles of the merge are approximations (weighted, max). */
    SeriesPoint mergeWith(SeriesPoint next) {
        long okHere = count - errors;
        long okNext = next.count - next.errors;
        long ok = okHere + okNext;
        return new SeriesPoint(next.offsetMillis, intervalMillis + next.intervalMillis,
                count + next.count, errors + next.errors,
                ok == 0 ? 0 : (meanNanos * okHere + next.meanNanos * okNext) / ok,
                ok == 0 ? 0 : (p50Nanos * okHere + next.p50Nanos * okNext) / ok,
                Math.max(p99Nanos, next.p99Nanos), Math.max(maxNanos, next.maxNanos));
    }
}
