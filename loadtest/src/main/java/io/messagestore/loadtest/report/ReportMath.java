package io.messagestore.loadtest.report;

import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/** ghz's report arithmetic, applied to an HdrHistogram instead of a sorted slice of latencies. */
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

    public static long fastest(Histogram histogram) {
        return histogram.getTotalCount() == 0 ? 0 : valueAtRank(histogram, 1);
    }

    public static long slowest(Histogram histogram) {
        return histogram.getTotalCount() == 0 ? 0 : valueAtRank(histogram, histogram.getTotalCount());
    }

    public static List<Report.LatencyPercentile> latencyDistribution(Histogram histogram) {
        List<Report.LatencyPercentile> result = new ArrayList<>();
        long n = histogram.getTotalCount();
        if (n == 0) {
            return result;
        }
        for (int p : PERCENTILES) {
            result.add(new Report.LatencyPercentile(p, valueAtRank(histogram, rank(p, n))));
        }
        return result;
    }

    /**
     * ghz's histogram: marks at fastest + i * (slowest - fastest) / 10 for i in 0..9 and the
     * slowest; every latency counts in the first bucket whose mark is at or above it.
     */
    public static List<Report.Bucket> histogram(Histogram histogram) {
        List<Report.Bucket> result = new ArrayList<>();
        long n = histogram.getTotalCount();
        if (n == 0) {
            return result;
        }
        long fastest = fastest(histogram);
        long slowest = slowest(histogram);
        double width = (slowest - fastest) / (double) HISTOGRAM_BUCKETS;
        double[] marks = new double[HISTOGRAM_BUCKETS + 1];
        for (int i = 0; i < HISTOGRAM_BUCKETS; i++) {
            marks[i] = fastest + width * i;
        }
        marks[HISTOGRAM_BUCKETS] = slowest;
        long[] counts = new long[marks.length];
        int bucket = 0;
        for (HistogramIterationValue value : histogram.recordedValues()) {
            long latency = representative(histogram, value.getValueIteratedTo());
            while (bucket < marks.length - 1 && latency > marks[bucket]) {
                bucket++;
            }
            counts[bucket] += value.getCountAtValueIteratedTo();
        }
        for (int i = 0; i < marks.length; i++) {
            // ghz marks are seconds (float64), frequencies fractions of the successful calls
            result.add(new Report.Bucket(marks[i] / 1e9, counts[i], counts[i] / (double) n));
        }
        return result;
    }
}
