package io.messagestore.loadtest.report;

import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * ghz's report arithmetic, applied to an HdrHistogram instead of a sorted slice of latencies.
 * The histogram stands for each latency by its bucket's middle, which can lie just outside the
 * exact fastest and slowest call (with one call, always does unless it is exact). So the
 * fastest and slowest calls count as their exact values and every other value read from the
 * histogram is bounded by them: no percentile or histogram count lands beyond fastest..slowest.
 */
public final class ReportMath {

    /** The percentiles ghz reports. */
    public static final int[] PERCENTILES = {10, 25, 50, 75, 90, 95, 99};
    /** ghz divides fastest..slowest into this many equal buckets (plus the slowest as a mark). */
    public static final int HISTOGRAM_BUCKETS = 10;

    private ReportMath() {
    }

    /**
     * The 1-based rank ghz picks for a percentile of n sorted values: index int(p/100*n),
     * minus one when that product is whole, i.e. rank = ceil(p/100*n), at least 1.
     */
    public static long rank(int percentage, long n) {
        double position = percentage / 100.0 * n;
        long rank = (long) Math.ceil(position - 1e-9);
        return Math.max(1, Math.min(n, rank));
    }

    /** The value of the {@code rank}-th smallest recorded latency. */
    public static long valueAtRank(Histogram histogram, long rank) {
        long seen = 0;
        for (HistogramIterationValue value : histogram.recordedValues()) {
            seen += value.getCountAtValueIteratedTo();
            if (seen >= rank) {
                return representative(histogram, value.getValueIteratedTo());
            }
        }
        return histogram.getMaxValue();
    }

    /** Values below 2048 ns are exact; above, the bucket's middle is within 0.1 % of the truth. */
    private static long representative(Histogram histogram, long valueIteratedTo) {
        return histogram.medianEquivalentValue(valueIteratedTo);
    }

    static long bounded(long value, long fastest, long slowest) {
        return Math.max(fastest, Math.min(slowest, value));
    }

    /** The {@code rank}-th smallest of the successful calls, whose exact extremes are fastest and slowest. */
    static long latencyAtRank(Histogram histogram, long rank, long fastest, long slowest) {
        if (rank <= 1) {
            return fastest;
        }
        if (rank >= histogram.getTotalCount()) {
            return slowest;
        }
        return bounded(valueAtRank(histogram, rank), fastest, slowest);
    }

    /** ghz's percentiles of the successful calls, whose exact extremes are fastest and slowest. */
    public static List<Report.LatencyPercentile> latencyDistribution(Histogram histogram, long fastest, long slowest) {
        List<Report.LatencyPercentile> result = new ArrayList<>();
        long n = histogram.getTotalCount();
        if (n == 0) {
            return result;
        }
        for (int p : PERCENTILES) {
            result.add(new Report.LatencyPercentile(p, latencyAtRank(histogram, rank(p, n), fastest, slowest)));
        }
        return result;
    }

    /**
     * ghz's histogram: marks at fastest + i * (slowest - fastest) / 10 for i in 0..9 and the
     * slowest; every latency counts in the first bucket whose mark is at or above it.
     */
    public static List<Report.Bucket> histogram(Histogram histogram, long fastest, long slowest) {
        List<Report.Bucket> result = new ArrayList<>();
        long n = histogram.getTotalCount();
        if (n == 0) {
            return result;
        }
        double width = (slowest - fastest) / (double) HISTOGRAM_BUCKETS;
        double[] marks = new double[HISTOGRAM_BUCKETS + 1];
        for (int i = 0; i < HISTOGRAM_BUCKETS; i++) {
            marks[i] = fastest + width * i;
        }
        marks[HISTOGRAM_BUCKETS] = slowest;
        BucketCounts counts = new BucketCounts(marks);
        long ranked = 0;
        for (HistogramIterationValue value : histogram.recordedValues()) {
            long calls = value.getCountAtValueIteratedTo();
            long middle = bounded(representative(histogram, value.getValueIteratedTo()), fastest, slowest);
            boolean holdsFastest = ranked == 0;
            ranked += calls;
            boolean holdsSlowest = ranked == n && n > 1;
            if (holdsFastest) {
                counts.add(fastest, 1);
                calls--;
            }
            if (holdsSlowest) {
                calls--;
            }
            counts.add(middle, calls);
            if (holdsSlowest) {
                counts.add(slowest, 1);
            }
        }
        for (int i = 0; i < marks.length; i++) {
            // ghz marks are seconds (float64), frequencies fractions of the successful calls
            result.add(new Report.Bucket(marks[i] / 1e9, counts.counts[i], counts.counts[i] / (double) n));
        }
        return result;
    }

    /** ghz's sweep: latencies arrive in ascending order, each counts in the first bucket whose mark is >= it. */
    private static final class BucketCounts {
        private final double[] marks;
        private final long[] counts;
        private int bucket;

        BucketCounts(double[] marks) {
            this.marks = marks;
            this.counts = new long[marks.length];
        }

        void add(long latency, long calls) {
            if (calls <= 0) {
                return;
            }
            while (bucket < marks.length - 1 && latency > marks[bucket]) {
                bucket++;
            }
            counts[bucket] += calls;
        }
    }
}
