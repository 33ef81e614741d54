package io.messagestore.loadtest.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * The figures of one report describe the same calls, so they must never contradict each other:
 * fastest <= average <= slowest, every percentile and every latency-over-time value between
 * fastest and slowest, percentiles in order, the histogram spanning fastest..slowest.
 */
class ReportConsistencyTest {

    private static final long MS = 1_000_000L;

    @Test
    void oneCallReportsItsOwnLatencyAsFastestAverageSlowestAndEveryPercentile() {
        // not on an HdrHistogram bucket boundary: the bucket's middle is not the latency itself
        long latency = 4_995_100L;
        Report report = reportOf(new long[] {latency});

        assertThat(report.fastestNanos()).isEqualTo(latency);
        assertThat(report.averageNanos()).isEqualTo(latency);
        assertThat(report.slowestNanos()).isEqualTo(latency);
        assertThat(report.latencyDistribution()).extracting(Report.LatencyPercentile::latencyNanos)
                .containsOnly(latency);
        assertThat(report.series()).extracting(SeriesPoint::maxNanos).containsOnly(latency);
    }

    @Test
    void oneCallSummaryPrintsTheSameFastestAverageAndSlowest() {
        StringWriter out = new StringWriter();
        // 4.9949 ms lies in the HdrHistogram bucket whose middle is 4.995072 ms: "4.99" vs "5.00"
        SummaryWriter.write(reportOf(new long[] {4_994_900L}), new PrintWriter(out));

        assertThat(out.toString().lines()
                .filter(line -> line.contains("Slowest:") || line.contains("Fastest:") || line.contains("Average:"))
                .map(line -> line.substring(line.indexOf('\t') + 1))
                .collect(Collectors.toSet()))
                .containsExactly("4.99 ms");
    }

    @Test
    void oneCallJsonAndCsvShowTheSameLatencyEverywhere() throws Exception {
        RunStats stats = new RunStats(true, 100 * MS);
        stats.start(0);
        stats.record(4_994_900L, Status.OK);
        Report report = Report.from(stats.finish(MS), null, "normal", Instant.EPOCH, Map.of(), MS, Map.of(), null);
        StringWriter json = new StringWriter();
        JsonReportWriter.write(report, json, false);
        StringWriter csv = new StringWriter();
        CsvReportWriter.write(report, new PrintWriter(csv));

        JsonNode root = new ObjectMapper().readTree(json.toString());
        assertThat(List.of(root.get("fastest").asLong(), root.get("average").asLong(), root.get("slowest").asLong()))
                .containsOnly(4_994_900L);
        assertThat(root.get("latencyDistribution").findValuesAsText("latency")).containsOnly("4994900");
        assertThat(root.get("latencyOverTime").findValuesAsText("max")).containsOnly("4994900");
        assertThat(csv.toString().lines()).containsExactly("duration (ms),status,error", "4.99,OK,");
    }

    @Test
    void statisticsAgreeForEveryCountAndRandomLatencies() {
        Random random = new Random(20260115L);
        for (int count = 1; count <= 200; count++) {
            for (int trial = 0; trial < 3; trial++) {
                long[] latencies = randomLatencies(random, count);
                assertConsistent(reportOf(latencies), latencies);
            }
        }
    }

    @Test
    void fastestAndSlowestAreTheExactExtremesAsInGhz() {
        Random random = new Random(7L);
        for (int trial = 0; trial < 200; trial++) {
            long[] latencies = randomLatencies(random, 1 + random.nextInt(50));
            Report report = reportOf(latencies);

            assertThat(report.fastestNanos()).isEqualTo(LongStream.of(latencies).min().orElseThrow());
            assertThat(report.slowestNanos()).isEqualTo(LongStream.of(latencies).max().orElseThrow());
        }
    }

    @Test
    void failedCallsDoNotMoveTheSuccessfulCallsBounds() {
        RunStats stats = new RunStats(false, 100 * MS);
        stats.start(0);
        stats.record(3_000_001L, Status.OK);
        stats.record(20_000 * MS, Status.DEADLINE_EXCEEDED);
        Report report = Report.from(stats.finish(MS), null, "normal", Instant.EPOCH, Map.of(), MS, Map.of(), null);

        assertThat(report.fastestNanos()).isEqualTo(3_000_001L);
        assertThat(report.slowestNanos()).isEqualTo(3_000_001L);
        assertThat(report.latencyDistribution()).extracting(Report.LatencyPercentile::latencyNanos)
                .containsOnly(3_000_001L);
    }

    private static void assertConsistent(Report report, long[] latencies) {
        String context = "latencies " + java.util.Arrays.toString(latencies);
        long fastest = report.fastestNanos();
        long slowest = report.slowestNanos();
        assertThat(report.averageNanos()).as(context).isBetween(fastest, slowest);
        List<Long> percentiles = report.latencyDistribution().stream()
                .map(Report.LatencyPercentile::latencyNanos).toList();
        assertThat(percentiles).as(context).hasSize(ReportMath.PERCENTILES.length).isSorted()
                .allSatisfy(p -> assertThat(p).as(context).isBetween(fastest, slowest));
        List<Report.Bucket> histogram = report.histogram();
        assertThat(histogram.get(0).markSeconds()).as(context).isEqualTo(fastest / 1e9);
        assertThat(histogram.get(histogram.size() - 1).markSeconds()).as(context).isEqualTo(slowest / 1e9);
        assertThat(histogram.stream().mapToLong(Report.Bucket::count).sum()).as(context).isEqualTo(latencies.length);
        // as in ghz, the fastest call counts in the first bucket and the slowest in the last
        assertThat(histogram.get(0).count()).as(context).isPositive();
        if (fastest < slowest) {
            assertThat(histogram.get(histogram.size() - 1).count()).as(context).isPositive();
        }
        for (SeriesPoint point : report.series()) {
            assertThat(List.of(point.meanNanos(), point.p50Nanos(), point.p99Nanos(), point.maxNanos()))
                    .as(context).allSatisfy(v -> assertThat(v).isBetween(fastest, slowest));
            assertThat(point.p50Nanos()).as(context).isLessThanOrEqualTo(point.p99Nanos());
            assertThat(point.p99Nanos()).as(context).isLessThanOrEqualTo(point.maxNanos());
        }
    }

    /** Latencies spread over every magnitude from 1 µs to 10 s, sometimes all alike. */
    private static long[] randomLatencies(Random random, int count) {
        long[] latencies = new long[count];
        boolean alike = random.nextInt(10) == 0;
        long first = logUniform(random);
        for (int i = 0; i < count; i++) {
            latencies[i] = alike ? first : logUniform(random);
        }
        return latencies;
    }

    private static long logUniform(Random random) {
        return (long) Math.exp(Math.log(1_000) + random.nextDouble() * (Math.log(10_000 * MS) - Math.log(1_000)));
    }

    private static Report reportOf(long[] latencies) {
        RunStats stats = new RunStats(false, 100 * MS);
        stats.start(0);
        for (long latency : latencies) {
            stats.record(latency, Status.OK);
        }
        return Report.from(stats.finish(200 * MS), null, "normal", Instant.EPOCH, Map.of(), 200 * MS, Map.of(), null);
    }
}
