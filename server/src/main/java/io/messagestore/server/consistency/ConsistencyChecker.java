package io.messagestore.server.consistency;

import io.lettuce.core.RedisException;
import io.messagestore.server.clickhouse.ArchiveCopies;
import io.messagestore.server.clickhouse.ClickHouseArchive;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.config.ArchiveSettings;
import io.messagestore.server.config.ConsistencySettings;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.error.StoreError.TierUnavailable.Stored;
import io.messagestore.server.persistence.DeadLetters;
import io.messagestore.server.postgres.ConsistencyRows;
import io.messagestore.server.postgres.ConsistencyRows.MessageRef;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.PostgresTier;
import io.messagestore.server.redis.MessageCopies;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.write.MessageIdGenerator;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compares the copies of messages across Redis, the persistence streams, PostgreSQL and the
 * archive, reports where they disagree and, when asked, repairs what a good copy can repair
 * ({@code CheckConsistency}); and a background sampler that checks a random sample of recent
 * messages on a schedule ({@code messagestore_consistency_score}).
 *
 * <p>Checks run on the blocking pool, at most {@link ConsistencySettings#maxConcurrentChecks} at
 * once (more are refused, not queued: a queued check would hold its caller for nothing), each on a
 * PostgreSQL and a Redis connection of its own, so that the request path keeps its connections.
 */
public final class ConsistencyChecker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConsistencyChecker.class);
  /** Findings logged per check; the rest are counted. */
  private static final int LOGGED_FINDINGS = 50;

  private final Tiers tiers;
  private final Repairs repairs;
  private final ConsistencySettings settings;
  private final ArchiveSettings archive;
  private final Executor blocking;
  private final Clock clock;
  private final ConsistencyMetrics metrics;
  private final Semaphore running;
  private final DoubleSupplier requestRate;
  private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "consistency-sampler");
    t.setDaemon(true);
    return t;
  });

  public ConsistencyChecker(RedisTier redis, RedisKeys keys, DeadLetters deadLetters, PostgresTier postgres,
      PostgresMessageStore messageRows, ClickHouseTier clickhouse, ConsistencySettings settings,
      ArchiveSettings archive, Executor blocking, DoubleSupplier requestRate, Clock clock, MeterRegistry meters) {
    this.requestRate = requestRate;
    this.tiers = new Tiers(new MessageCopies(redis, keys, redis.commandTimeout().multipliedBy(5)), deadLetters,
        new ConsistencyRows(postgres), messageRows, new ArchiveCopies(clickhouse), new ClickHouseArchive(clickhouse));
    this.repairs = new Repairs(tiers, clock);
    this.settings = settings;
    this.archive = archive;
    this.blocking = blocking;
    this.clock = clock;
    this.metrics = new ConsistencyMetrics(meters);
    this.running = new Semaphore(settings.maxConcurrentChecks());
  }

  /** Starts the sampler, unless sampling is off. */
  public void start() {
    if (settings.sampling()) {
      long every = settings.sampleInterval().toMillis();
      sampler.scheduleWithFixedDelay(this::sampleOnce, every, every, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Checks a scope on the blocking pool.
   *
   * @param expired true once the caller's deadline has passed or it went away: the check stops
   * @throws StoreError.Exhausted (in the future) when as many checks as allowed are running
   */
  public CompletableFuture<CheckResult> check(Scope scope, boolean repair, BooleanSupplier expired) {
    if (!running.tryAcquire()) {
      metrics.ended("refused");
      return CompletableFuture.failedFuture(new StoreError.Exhausted(settings.maxConcurrentChecks()
          + " consistency checks are running on this instance (MESSAGESTORE_CONSISTENCY_MAX_CONCURRENT_CHECKS); "
          + "retry when one has finished"));
    }
    try {
      return CompletableFuture.supplyAsync(() -> {
        CheckResult result;
        try {
          result = run(scope, repair, expired, new CheckPacing(requestRate));
        } catch (RuntimeException | Error e) {
          running.release();
          if (e instanceof StoreError.Cancelled) {
            metrics.ended("cancelled");
            log.info("consistency check of {} stopped: {}", describe(scope), e.getMessage());
          } else {
            metrics.ended("failed");
          }
          throw e;
        }
        // The slot is free before the check is seen to have ended: whoever starts the next one
        // on seeing that must not be refused.
        running.release();
        metrics.ended("completed");
        metrics.checked(result, false);
        logFindings("check of " + describe(scope), result);
        return result;
      }, blocking);
    } catch (RuntimeException e) {
      running.release();
      throw e;
    }
  }

  /** One sample: a random set of recent messages, checked without repair. */
  void sampleOnce() {
    if (!running.tryAcquire()) {
      return; // operators' checks come first; the next round samples
    }
    try {
      Instant now = clock.instant();
      String from = MessageIdGenerator.firstIdAt(now.minus(settings.sampleWindow()).toEpochMilli());
      String to = MessageIdGenerator.firstIdAt(now.minus(settings.lagBudget()).toEpochMilli());
      List<MessageRef> refs = tiers.postgres().sample(from, to, settings.sampleSize());
      if (refs.isEmpty()) {
        return;
      }
      CheckResult result = run(new Scope.Messages(refs), false, () -> false, new CheckPacing(requestRate));
      metrics.checked(result, true);
      logFindings("sample of " + refs.size() + " recent messages", result);
    } catch (Exception e) {
      log.warn("consistency sample failed: {}", e.toString());
    } finally {
      running.release();
    }
  }

  private CheckResult run(Scope scope, boolean repair, BooleanSupplier expired, CheckPacing pacing) {
    Instant now = clock.instant();
    Judgement.Cutoffs cutoffs = new Judgement.Cutoffs(now.minus(settings.lagBudget()),
        archive.archiving() ? now.minus(archive.hotRetention()) : null, now.minus(settings.archiveGrace()));
    Instant retentionCutoff = archive.archiveExpires() ? now.minus(archive.archiveRetention()) : null;
    ConsistencyCheck check = new ConsistencyCheck(tiers, repairs, cutoffs, retentionCutoff, repair,
        settings.maxFindings(), expired, pacing);
    try {
      return check.run(scope);
    } catch (StoreError e) {
      throw e;
    } catch (SQLException e) {
      throw new StoreError.TierUnavailable("postgres unavailable to the consistency check: " + e.getMessage(),
          Stored.NOTHING, e);
    } catch (IOException e) {
      throw new StoreError.TierUnavailable("clickhouse unavailable to the consistency check: " + e.getMessage(),
          Stored.NOTHING, e);
    } catch (RedisException e) {
      throw new StoreError.TierUnavailable("redis unavailable to the consistency check: " + e.getMessage(),
          Stored.NOTHING, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreError.Cancelled("the consistency check was interrupted");
    } catch (Exception e) {
      throw new CompletionException(e);
    }
  }

  private static void logFindings(String what, CheckResult result) {
    if (result.counts().isEmpty()) {
      log.info("consistency {}: {} messages, no findings", what, result.checked());
      return;
    }
    log.warn("consistency {}: {} messages, {} with findings, score {}, findings by kind {}", what, result.checked(),
        result.withFindings(), String.format("%.4f", result.score()), result.counts());
    result.findings().stream().limit(LOGGED_FINDINGS).forEach(f -> log.warn(
        "consistency finding {} thread={} message={}{}: {}", f.kind().label(), f.threadId(), f.messageId(),
        f.repaired() ? " (repaired)" : "", f.detail()));
  }

  private static String describe(Scope scope) {
    if (scope instanceof Scope.OneMessage m) {
      return "message " + m.messageId() + " of thread " + m.threadId();
    }
    if (scope instanceof Scope.OneThread t) {
      return "thread " + t.threadId();
    }
    if (scope instanceof Scope.Window w) {
      return "window " + w.start() + " .. " + w.end();
    }
    return "given messages";
  }

  @Override
  public void close() {
    sampler.shutdownNow();
    tiers.redis().close();
  }
}
