package io.messagestore.server.archive;

import com.google.protobuf.Timestamp;
import io.messagestore.api.v1.ArchiverStatus;
import io.messagestore.api.v1.ErasureStatus;
import io.messagestore.api.v1.Message;
import io.messagestore.server.clickhouse.ArchiveErasure;
import io.messagestore.server.clickhouse.ArchiveRetention;
import io.messagestore.server.clickhouse.ClickHouseArchive;
import io.messagestore.server.clickhouse.ClickHouseRunStates;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.clickhouse.MessageFacts;
import io.messagestore.server.config.ArchiveSettings;
import io.messagestore.server.config.ClickHouseSettings;
import io.messagestore.server.events.ClusterEvents;
import io.messagestore.server.postgres.AnalyticsOutbox;
import io.messagestore.server.postgres.ArchiveRows;
import io.messagestore.server.postgres.PostgresTier;
import io.messagestore.server.postgres.RunArchiveRows;
import io.messagestore.server.postgres.ThreadErasures;
import io.messagestore.server.resilience.TierBreaker;
import io.messagestore.server.pump.BatchPump;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds ClickHouse from PostgreSQL in every gateway instance, one instance at a time (the feeder
 * lease): the archive pump moves messages past the hot retention into the archive (copy, read
 * back, then delete), the analytics pump moves queued analytics rows into {@code message_facts},
 * the run archive pump moves completed agent runs into {@code run_states_archive}, and an upkeep task drops archive partitions past their retention and refreshes what
 * {@code GetTierStatus} and the metrics show. Both pumps work on PostgreSQL connections of their
 * own, so they never take the request path's pooled connections.
 */
public final class Archiver implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Archiver.class);
  /** How long an idle analytics pump waits before it looks at the outbox again. */
  static final Duration ANALYTICS_IDLE_WAIT = Duration.ofSeconds(1);
  /** The shortest lease: a holder renews at a third of it, so it must outlast short pauses. */
  static final Duration MIN_LEASE = Duration.ofSeconds(3);
  /**
   * How long one batch call to ClickHouse may take. The request path's
   * {@code MESSAGESTORE_CLICKHOUSE_TIMEOUT} (2 s) is for single reads; a batch of thousands of
   * rows on a busy machine can take longer, and a timeout that cuts every batch short would
   * only make the feeder send the same batch again and again.
   */
  static final Duration BATCH_TIMEOUT = Duration.ofSeconds(30);
  /** Counting the backlogs is a scan: done at most this often, however short the interval. */
  static final Duration BACKLOG_COUNT_EVERY = Duration.ofSeconds(30);

  /** Completed runs per archive batch (each with its history). */
  static final int RUN_BATCH = 500;

  /** Erasures looked at per upkeep run; the rest wait for the next one. */
  static final int MAX_ERASURES_PER_RUN = 50;

  private final ArchiveSettings settings;
  /** A client of the feeder's own, with a timeout fit for batches (see {@link #BATCH_TIMEOUT}). */
  private final ClickHouseTier batchClient;
  private final Clock clock;
  private final ArchiveRows rows = new ArchiveRows();
  private final AnalyticsOutbox outbox = new AnalyticsOutbox();
  private final ArchiveMetrics metrics;
  private final OwnConnection upkeepConnection;
  private final OwnConnection archiveConnection;
  private final OwnConnection outboxConnection;
  private final OwnConnection runConnection;
  private final FeederLease lease;
  private final ArchiveSource archiveSource;
  private final OutboxSource outboxSource;
  private final RunArchiveSource runSource;
  private final BatchPump<Message> archivePump;
  private final BatchPump<AnalyticsOutbox.Row> analyticsPump;
  private final BatchPump<RunArchiveRows.CompletedRun> runPump;
  private final ArchiveRetention retention;
  private final ArchiveErasure clickhouseErasure;
  private final ThreadErasures erasures;
  private final AtomicReference<List<ErasureStatus>> pendingErasures = new AtomicReference<>(List.of());
  private final List<Thread> threads = new ArrayList<>();
  private final ScheduledExecutorService upkeep = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "archive-upkeep");
    t.setDaemon(true);
    return t;
  });
  private final AtomicReference<ArchiverStatus> status;
  private Instant nextBacklogCount = Instant.MIN;

  public Archiver(ArchiveSettings settings, PostgresTier postgres, ClickHouseTier clickhouse,
      ClickHouseSettings clickhouseSettings, TierBreaker clickhouseWrite, DoubleSupplier requestRate,
      ClusterEvents events, Clock clock, MeterRegistry meters) {
    this.settings = settings;
    this.batchClient = new ClickHouseTier(new ClickHouseSettings(clickhouseSettings.url(), clickhouseSettings.database(),
        max(BATCH_TIMEOUT, clickhouseSettings.timeout())));
    this.clock = clock;
    this.metrics = new ArchiveMetrics(meters);
    this.status = new AtomicReference<>(ArchiverStatus.newBuilder().setEnabled(settings.archiving()).build());
    String holder = ManagementFactory.getRuntimeMXBean().getName() + "-" + UUID.randomUUID().toString().substring(0, 8);
    Duration leaseTtl = max(settings.interval().multipliedBy(3), MIN_LEASE);
    this.upkeepConnection = new OwnConnection(postgres);
    this.archiveConnection = new OwnConnection(postgres);
    this.outboxConnection = new OwnConnection(postgres);
    this.runConnection = new OwnConnection(postgres);
    this.lease = new FeederLease(holder, leaseTtl, rows, new OwnConnection(postgres), clock);
    this.archiveSource = new ArchiveSource(rows, archiveConnection, lease, settings.hotRetention(), settings.interval(),
        settings.batchSize(), clock, requestRate, metrics::lagSeconds, events);
    this.archivePump = new BatchPump<>("archiver", archiveSource,
        new ArchiveDestination(clickhouse, new ClickHouseArchive(batchClient), clickhouseWrite, clock),
        metrics.archive(), clock, settings.batchSize(), Duration.ZERO, ArchiveMetrics.MAX_DELIVERIES);
    this.outboxSource = new OutboxSource(outbox, outboxConnection, lease, ANALYTICS_IDLE_WAIT, settings.batchSize());
    this.analyticsPump = new BatchPump<>("analytics feed", outboxSource,
        new FactsDestination(clickhouse, new MessageFacts(batchClient), clickhouseWrite),
        metrics.analytics(), clock, settings.batchSize(), Duration.ZERO, ArchiveMetrics.MAX_DELIVERIES);
    // Completed runs are archived whatever the hot retention: they are final.
    this.runSource = new RunArchiveSource(new RunArchiveRows(), runConnection, lease, ANALYTICS_IDLE_WAIT,
        RUN_BATCH);
    this.runPump = new BatchPump<>("run archive", runSource,
        new RunArchiveDestination(clickhouse, new ClickHouseRunStates(batchClient), clickhouseWrite, clock),
        metrics.runs(), clock, RUN_BATCH, Duration.ZERO, ArchiveMetrics.MAX_DELIVERIES);
    this.retention = new ArchiveRetention(batchClient);
    this.clickhouseErasure = new ArchiveErasure(batchClient);
    this.erasures = new ThreadErasures(postgres);
    metrics.gauges(status::get);
  }

  public Archiver start() {
    if (settings.archiving()) {
      threads.add(start("archiver", archivePump));
    }
    threads.add(start("analytics-feed", analyticsPump));
    threads.add(start("run-archiver", runPump));
    upkeep.scheduleWithFixedDelay(this::upkeep, 0, settings.interval().toMillis(), TimeUnit.MILLISECONDS);
    log.info("archiver started as {} (hot retention {}, archive retention {})", lease.holder(),
        settings.archiving() ? settings.hotRetention() : "off",
        settings.archiveExpires() ? settings.archiveRetention() : "off");
    return this;
  }

  private static Thread start(String name, Runnable pump) {
    Thread t = new Thread(pump, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Deleted threads whose ClickHouse rows are not gone yet, as the last upkeep found them. */
  public List<ErasureStatus> pendingErasures() {
    return pendingErasures.get();
  }

  /** What GetTierStatus shows of the archiver, as the last upkeep found it. */
  public ArchiverStatus status() {
    return status.get();
  }

  /** Refreshes the status and gauges, and drops archive partitions past the retention. */
  void upkeep() {
    try {
      Connection c = upkeepConnection.get();
      ArchiverStatus.Builder s = ArchiverStatus.newBuilder().setEnabled(settings.archiving());
      rows.lease(c).ifPresent(l -> {
        s.setHolder(l.holder()).setLeaseExpiresAt(timestamp(l.expiresAt())).setLastRunMessages(l.lastRunMessages());
        l.lastRunAt().ifPresent(t -> s.setLastRunAt(timestamp(t)));
        l.lastError().ifPresent(s::setLastError);
      });
      double lagSeconds = 0;
      ArchiverStatus previous = status.get();
      boolean count = !clock.instant().isBefore(nextBacklogCount);
      if (count) {
        nextBacklogCount = clock.instant().plus(BACKLOG_COUNT_EVERY);
      }
      if (settings.archiving()) {
        Instant cutoff = clock.instant().minus(settings.hotRetention());
        s.setBacklog(count ? rows.backlog(c, ArchiveSource.cutoffId(cutoff)) : previous.getBacklog());
        Optional<String> oldest = rows.oldestId(c);
        if (oldest.isPresent()) {
          long behind = cutoff.toEpochMilli() - (UUID.fromString(oldest.get()).getMostSignificantBits() >>> 16);
          lagSeconds = Math.max(0, behind) / 1000.0;
        }
      }
      s.setAnalyticsBacklog(outbox.backlog(c));
      status.set(s.build());
      metrics.lagSeconds(lagSeconds);
    } catch (Exception e) {
      upkeepConnection.reset();
      log.debug("archive upkeep cannot read PostgreSQL: {}", e.toString());
    }
    if (lease.held()) {
      eraseInClickHouse();
    }
    if (settings.archiveExpires() && lease.held()) {
      try {
        List<String> dropped = retention.dropOlderThan(clock.instant().minus(settings.archiveRetention()));
        if (!dropped.isEmpty()) {
          log.info("archive retention {} dropped partitions {}", settings.archiveRetention(), dropped);
        }
      } catch (Exception e) {
        log.debug("archive retention waits for ClickHouse: {}", e.toString());
      }
    }
  }

  /**
   * Moves deleted threads' ClickHouse erasures along: submits the mutations of those not
   * submitted (again, if an archive or analytics batch landed after the last submission), and
   * marks done those whose rows are gone. ClickHouse being away only delays this.
   */
  void eraseInClickHouse() {
    List<ThreadErasures.Pending> pending;
    try {
      pending = erasures.pending(upkeepConnection.get(), MAX_ERASURES_PER_RUN);
    } catch (Exception e) {
      upkeepConnection.reset();
      return;
    }
    List<ErasureStatus> shown = new ArrayList<>();
    for (ThreadErasures.Pending p : pending) {
      String state = p.submitted() ? "submitted" : "waiting";
      String error = p.error() == null ? "" : p.error();
      try {
        if (!p.submitted()) {
          clickhouseErasure.submit(p.threadId(), p.erasedThrough());
          erasures.submitted(upkeepConnection.get(), p);
          state = "submitted";
        } else if (clickhouseErasure.remaining(p.threadId(), p.erasedThrough()) == 0) {
          erasures.done(upkeepConnection.get(), p);
          continue;
        }
      } catch (Exception e) {
        error = e.getMessage();
        try {
          erasures.failed(upkeepConnection.get(), p, error);
        } catch (Exception ignored) {
          upkeepConnection.reset();
        }
      }
      shown.add(ErasureStatus.newBuilder().setThreadId(p.threadId()).setErasedAt(timestamp(p.erasedAt()))
          .setState(state).setLastError(error).build());
    }
    pendingErasures.set(List.copyOf(shown));
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  private static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  @Override
  public void close() {
    archiveSource.stop();
    outboxSource.stop();
    runSource.stop();
    archivePump.stop();
    analyticsPump.stop();
    runPump.stop();
    for (Thread t : threads) {
      try {
        t.join(Duration.ofSeconds(10).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    upkeep.shutdownNow();
    lease.close();
    batchClient.close();
    upkeepConnection.close();
    archiveConnection.close();
    outboxConnection.close();
    runConnection.close();
  }
}
