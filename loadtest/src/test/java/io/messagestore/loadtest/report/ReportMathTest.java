package io.messagestore.loadtest.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportMathTest {

    private static final long MS = 1_000_000L;

    /** Latencies 1 ms .. 100 ms (one each) plus two failures, over exactly 2 s of wall time. */
    private static Report knownReport() {
        RunStats stats = new RunStats(false, 100 * MS);
        stats.start(0);
        for (int i = 1; i <= 100; i++) {
            stats.record(i * MS, Status.OK);
        }
        stats.record(500 * MS, Status.UNAVAILABLE.withDescription("connection refused"));
        stats.record(700 * MS, Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded"));
        return Report.from(stats.finish(2_000 * MS), "known", "normal", Instant.parse("2026-01-02T03:04:05Z"),
                Map.of("call", "x.Y/Z"), 2_000 * MS, Map.of("k", "v"), 12.5);
    }

    @Test
    void percentilesFollowGhzNearestRank() {
        Report report = knownReport();

        assertThat(report.latencyDistribution()).extracting(Report.LatencyPercentile::percentage)
                .containsExactly(10, 25, 50, 75, 90, 95, 99);
        // HdrHistogram with 3 significant digits: within 0.1 % of the exact value
        long[] expectedMs = {10, 25, 50, 75, 90, 95, 99};
        for (int i = 0; i < expectedMs.length; i++) {
            assertThat((double) report.latencyDistribution().get(i).latencyNanos())
                    .isCloseTo(expectedMs[i] * MS, within(expectedMs[i] * MS * 0.001));
        }
    }

    @Test
    void ghzRankIsCeilingOfTheFractionalPosition() {
        assertThat(ReportMath.rank(50, 100)).isEqualTo(50);
        assertThat(ReportMath.rank(75, 7)).isEqualTo(6);
        assertThat(ReportMath.rank(10, 7)).isEqualTo(1);
        assertThat(ReportMath.rank(99, 1)).isEqualTo(1);
    }

    @Test
    void countRpsAverageFastestAndSlowestUseGhzDefinitions() {
        Report report = knownReport();

        assertThat(report.count()).isEqualTo(102);
        assertThat(report.totalNanos()).isEqualTo(2_000 * MS);
        assertThat(report.rps()).isCloseTo(51.0, within(1e-9));
        // average over every call, failures included (as ghz)
        assertThat(report.averageNanos()).isEqualTo((5050 + 500 + 700) * MS / 102);
        // fastest and slowest over the successful calls only, exact (as ghz)
        assertThat(report.fastestNanos()).isEqualTo(MS);
        assertThat(report.slowestNanos()).isEqualTo(100 * MS);
    }

    @Test
    void histogramHasTenEqualBucketsFromFastestPlusTheSlowestMark() {
        List<Report.Bucket> histogram = knownReport().histogram();

        assertThat(histogram).hasSize(11);
        assertThat(histogram.get(0).markSeconds()).isEqualTo(0.001);
        assertThat(histogram.get(10).markSeconds()).isEqualTo(0.100);
        assertThat(histogram.get(1).markSeconds()).isCloseTo(0.0109, within(1e-12));
        // each latency counts in the first bucket whose mark is >= it: 1 | 2..10 | 11..20 | ...
        assertThat(histogram).extracting(Report.Bucket::count)
                .containsExactly(1L, 9L, 10L, 10L, 10L, 10L, 10L, 10L, 10L, 10L, 10L);
        assertThat(histogram.stream().mapToLong(Report.Bucket::count).sum()).isEqualTo(100);
        assertThat(histogram.get(1).frequency()).isCloseTo(0.09, within(1e-9));
    }

    @Test
    void statusAndErrorDistributionsUseGrpcGoSpelling() {
        Report report = knownReport();

        assertThat(report.statusCodeDistribution())
                .containsEntry("OK", 100L).containsEntry("Unavailable", 1L).containsEntry("DeadlineExceeded", 1L);
        assertThat(report.errorDistribution())
                .containsEntry("rpc error: code = Unavailable desc = connection refused", 1L)
                .containsEntry("rpc error: code = DeadlineExceeded desc = deadline exceeded", 1L);
    }

    @Test
    void jsonHasGhzFieldNamesWithDurationsInIntegerNanoseconds() throws Exception {
        StringWriter out = new StringWriter();
        JsonReportWriter.write(knownReport(), out, false);
        JsonNode json = new ObjectMapper().readTree(out.toString());

        assertThat(json.fieldNames()).toIterable().contains("name", "endReason", "date", "options", "count", "total",
                "average", "fastest", "slowest", "rps", "errorDistribution", "statusCodeDistribution",
                "latencyDistribution", "histogram", "tags");
        assertThat(json.get("total").isIntegralNumber()).isTrue();
        assertThat(json.get("total").asLong()).isEqualTo(2_000_000_000L);
        assertThat(json.get("average").isIntegralNumber()).isTrue();
        assertThat(json.get("fastest").isIntegralNumber()).isTrue();
        assertThat(json.get("date").asText()).isEqualTo("2026-01-02T03:04:05Z");
        assertThat(json.get("endReason").asText()).isEqualTo("normal");
        assertThat(json.get("rps").asDouble()).isCloseTo(51.0, within(1e-9));
        JsonNode p50 = json.get("latencyDistribution").get(2);
        assertThat(p50.get("percentage").asInt()).isEqualTo(50);
        assertThat(p50.get("latency").isIntegralNumber()).isTrue();
        assertThat(p50.get("latency").asLong()).isCloseTo(50 * MS, within(50 * MS / 1000));
        JsonNode bucket = json.get("histogram").get(10);
        assertThat(bucket.get("mark").asDouble()).isCloseTo(0.1, within(1e-4)); // seconds, as ghz
        assertThat(bucket.get("count").asLong()).isEqualTo(10);
        assertThat(bucket.get("frequency").asDouble()).isCloseTo(0.1, within(1e-9));
        assertThat(json.get("statusCodeDistribution").get("OK").asLong()).isEqualTo(100);
        assertThat(json.get("cpuPerCallMicros").asDouble()).isEqualTo(12.5);
    }

    @Test
    void csvHasOneLinePerCallLikeGhz() {
        RunStats stats = new RunStats(true, 100 * MS);
        stats.start(0);
        stats.record(2 * MS, Status.OK);
        stats.record(3 * MS, Status.UNAVAILABLE.withDescription("down, really"));
        Report report = Report.from(stats.finish(MS), null, "normal", Instant.now(), Map.of(), MS, Map.of(), null);
        StringWriter out = new StringWriter();
        CsvReportWriter.write(report, new java.io.PrintWriter(out));

        assertThat(out.toString().lines()).containsExactly("duration (ms),status,error", "2.00,OK,",
                "3.00,Unavailable,\"rpc error: code = Unavailable desc = down, really\"");
    }

    @Test
    void aRunWithoutSuccessfulCallsHasNoPercentilesOrHistogram() {
        RunStats stats = new RunStats(false, 100 * MS);
        stats.start(0);
        stats.record(MS, Status.UNAUTHENTICATED);
        Report report = Report.from(stats.finish(MS), null, "normal", Instant.now(), Map.of(), MS, Map.of(), null);

        assertThat(report.latencyDistribution()).isEmpty();
        assertThat(report.histogram()).isEmpty();
        assertThat(report.count()).isEqualTo(1);
    }
}
