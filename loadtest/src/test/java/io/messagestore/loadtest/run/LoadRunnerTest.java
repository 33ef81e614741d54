package io.messagestore.loadtest.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.grpc.Channel;
import io.grpc.Status;
import io.messagestore.loadtest.report.Report;
import io.messagestore.loadtest.report.RunStats;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The engine with a fake call that completes after a set delay: no network, exact control. */
class LoadRunnerTest {

    private static final List<Channel> NO_CHANNEL = Collections.singletonList(null);
    private final ScheduledExecutorService server = Executors.newScheduledThreadPool(2);

    @AfterEach
    void stop() {
        server.shutdownNow();
    }

    /** A call that answers OK after {@code micros}, or after {@code stallMillis} for call {@code stallAt}. */
    private CallLauncher answeringAfter(long micros, long stallAt, long stallMillis) {
        return worker -> {
            long delay = worker.requestNumber() == stallAt ? stallMillis * 1000 : micros;
            server.schedule(() -> worker.complete(Status.OK), delay, TimeUnit.MICROSECONDS);
        };
    }

    private static Report run(LoadProfile profile, CallLauncher launcher) {
        RunStats stats = new RunStats(true, TimeUnit.MILLISECONDS.toNanos(100));
        RunOutcome outcome = new LoadRunner(profile, NO_CHANNEL, launcher, stats, null).run();
        return Report.from(outcome.stats(), null, outcome.endReason(), outcome.date(), Map.of(), outcome.totalNanos(),
                Map.of(), outcome.cpuPerCallMicros());
    }

    @Test
    void achievedRpsIsWithinFivePercentOfTheAskedRate() {
        LoadProfile profile = LoadProfile.ofCount(4, 1).withDuration(Duration.ofSeconds(2)).withRps(500);

        Report report = run(profile, answeringAfter(500, -1, 0));

        assertThat(report.endReason()).isEqualTo("timeout");
        assertThat(report.rps()).isCloseTo(500.0, within(25.0));
        assertThat(report.count()).isBetween(950L, 1050L);
    }

    @Test
    void aLowRateIsHeldEvenWithHighConcurrency() {
        LoadProfile profile = LoadProfile.ofCount(50, 150).withRps(100);

        long started = System.nanoTime();
        Report report = run(profile, answeringAfter(100, -1, 0));
        double seconds = (System.nanoTime() - started) / 1e9;

        assertThat(report.count()).isEqualTo(150);
        assertThat(seconds).isBetween(1.4, 1.8);
        assertThat(report.rps()).isCloseTo(100.0, within(5.0));
    }

    @Test
    void withRpsLatencyIsMeasuredFromTheIntendedStartSoAStallIsNotHidden() {
        // 100 calls/s through one worker; call 10 stalls 300 ms. The calls scheduled during the
        // stall start late, and that wait must show up in their latency (no coordinated omission).
        LoadProfile profile = LoadProfile.ofCount(1, 60).withRps(100);

        Report report = run(profile, answeringAfter(100, 10, 300));

        long slowCalls = report.details() == null ? 0 : countSlowerThan(report, TimeUnit.MILLISECONDS.toNanos(50));
        assertThat(report.slowestNanos()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(300));
        assertThat(slowCalls).isGreaterThanOrEqualTo(20);
    }

    private static long countSlowerThan(Report report, long nanos) {
        long[] count = {0};
        report.details().forEach((ts, latency, code, error) -> {
            if (latency > nanos) {
                count[0]++;
            }
        });
        return count[0];
    }

    @Test
    void exactlyTotalCallsAreMadeAndTheSkippedOnesAreNotRecorded() {
        int[] made = {0};
        CallLauncher counting = worker -> {
            synchronized (made) {
                made[0]++;
            }
            server.execute(() -> worker.complete(Status.OK));
        };

        Report report = run(LoadProfile.ofCount(7, 1000).withSkipFirst(100), counting);

        assertThat(made[0]).isEqualTo(1000);
        assertThat(report.count()).isEqualTo(900);
        assertThat(report.endReason()).isEqualTo("normal");
    }

    @Test
    void callsThatFailInsideStartDoNotOverflowTheStack() {
        CallLauncher failingAtOnce = worker -> worker.complete(Status.UNAVAILABLE.withDescription("no"));

        Report report = run(LoadProfile.ofCount(2, 20_000), failingAtOnce);

        assertThat(report.count()).isEqualTo(20_000);
        assertThat(report.statusCodeDistribution()).containsEntry("Unavailable", 20_000L);
    }

    @Test
    void cancelledRunEndsWithCancelAsEndReason() throws Exception {
        LoadProfile profile = LoadProfile.ofCount(2, 1).withDuration(Duration.ofSeconds(30));
        RunStats stats = new RunStats(false, TimeUnit.MILLISECONDS.toNanos(100));
        LoadRunner runner = new LoadRunner(profile, NO_CHANNEL, answeringAfter(1000, -1, 0), stats, null);
        server.schedule(runner::cancel, 300, TimeUnit.MILLISECONDS);

        RunOutcome outcome = runner.run();

        assertThat(outcome.endReason()).isEqualTo("cancel");
        assertThat(outcome.totalNanos()).isLessThan(TimeUnit.SECONDS.toNanos(5));
    }
}
