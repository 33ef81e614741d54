package io.messagestore.server.archive;

import io.messagestore.api.v1.ArchiverStatus;
import io.messagestore.api.v1.Message;
import io.messagestore.server.postgres.AnalyticsOutbox;
import io.messagestore.server.postgres.RunArchiveRows;
import io.messagestore.server.pump.PumpListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/** The archiver's and the analytics feed's metrics (see docs/OPERATIONS.md). */
final class ArchiveMetrics {
  /** Deliveries after which a message or row ClickHouse keeps refusing is set aside. */
  static final int MAX_DELIVERIES = 5;

  private final MeterRegistry meters;
  private final Counter archived;
  private final Counter batches;
  private final Timer batchDuration;
  private final Counter archiveFailures;
  private final Counter analyticsRows;
  private final Counter analyticsFailures;
  private final Counter runs;
  private final Counter runFailures;
  private final AtomicReference<Double> lagSeconds = new AtomicReference<>(0.0);

  ArchiveMetrics(MeterRegistry meters) {
    this.meters = meters;
    this.archived = Counter.builder("messagestore.archive.messages")
        .description("messages copied to the ClickHouse archive and read back").register(meters);
    this.batches = Counter.builder("messagestore.archive.batches").register(meters);
    this.batchDuration = Timer.builder("messagestore.archive.batch.duration")
        .description("copy and read-back of one archive batch").publishPercentileHistogram().register(meters);
    this.archiveFailures = Counter.builder("messagestore.archive.failures")
        .description("archive batches ClickHouse could not take (retried)").register(meters);
    this.analyticsRows = Counter.builder("messagestore.analytics.rows")
        .description("analytics rows copied to ClickHouse").register(meters);
    this.analyticsFailures = Counter.builder("messagestore.analytics.failures")
        .description("analytics batches ClickHouse could not take (retried)").register(meters);
    this.runs = Counter.builder("messagestore.archive.runs")
        .description("completed agent runs copied to the ClickHouse archive and read back").register(meters);
    this.runFailures = Counter.builder("messagestore.archive.run.failures")
        .description("run archive batches ClickHouse could not take (retried)").register(meters);
  }

  void gauges(Supplier<ArchiverStatus> status) {
    Gauge.builder("messagestore.archive.lag", lagSeconds, AtomicReference::get).baseUnit("seconds")
        .description("how far the oldest message in PostgreSQL is past the hot retention").register(meters);
    Gauge.builder("messagestore.archive.backlog", () -> status.get().getBacklog())
        .description("messages past the hot retention still in PostgreSQL").register(meters);
    Gauge.builder("messagestore.analytics.backlog", () -> status.get().getAnalyticsBacklog())
        .description("analytics rows waiting for ClickHouse").register(meters);
  }

  void lagSeconds(double seconds) {
    lagSeconds.set(seconds);
  }

  /** The lag the last upkeep found. */
  double lagSeconds() {
    return lagSeconds.get();
  }

  PumpListener<Message> archive() {
    return new PumpListener<>() {
      @Override
      public void committed(List<Message> items, long committedAtMillis, long commitNanos) {
        archived.increment(items.size());
        batches.increment();
        batchDuration.record(commitNanos, TimeUnit.NANOSECONDS);
      }

      @Override
      public void commitFailed(Exception failure) {
        archiveFailures.increment();
      }
    };
  }

  PumpListener<RunArchiveRows.CompletedRun> runs() {
    return new PumpListener<>() {
      @Override
      public void committed(List<RunArchiveRows.CompletedRun> items, long committedAtMillis, long commitNanos) {
        runs.increment(items.size());
      }

      @Override
      public void commitFailed(Exception failure) {
        runFailures.increment();
      }
    };
  }

  PumpListener<AnalyticsOutbox.Row> analytics() {
    return new PumpListener<>() {
      @Override
      public void committed(List<AnalyticsOutbox.Row> items, long committedAtMillis, long commitNanos) {
        analyticsRows.increment(items.size());
      }

      @Override
      public void commitFailed(Exception failure) {
        analyticsFailures.increment();
      }
    };
  }
}
