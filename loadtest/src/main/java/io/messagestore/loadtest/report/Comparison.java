package io.messagestore.loadtest.report;

/**
 * A baseline run and a target run made back to back with the same settings.
 * Ratios are target / baseline: throughput below 1 and latency above 1 mean the target is slower.
 */
public record Comparison(Report baseline, Report target) {

    public double throughputRatio() {
        return ratio(target.rps(), baseline.rps());
    }

    public double p50Ratio() {
        return ratio(target.latencyAt(50), baseline.latencyAt(50));
    }

    public double p99Ratio() {
        return ratio(target.latencyAt(99), baseline.latencyAt(99));
    }

    private static double ratio(double target, double baseline) {
        return baseline == 0 ? Double.NaN : target / baseline;
    }
}
