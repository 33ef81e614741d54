package io.messagestore.server.runstate;

import io.messagestore.api.v1.RunState;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.clickhouse.ClickHouseRunStates;
import io.messagestore.server.config.RunStateSettings;
import io.messagestore.server.postgres.PostgresRunStates;
import io.messagestore.server.resilience.TierBreakers;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What reads and writes of run state share below Redis: PostgreSQL's checkpoint of a run, the
 * archive's copy of a completed one, and putting either back into Redis. Blocking methods run on
 * the blocking pool.
 */
final class LowerTiers {
  private static final Logger log = LoggerFactory.getLogger(LowerTiers.class);
  /** A completed run stays in Redis at most this long, whatever its class. */
  static final Duration COMPLETED_TTL = Duration.ofHours(1);

  private final RunStateCache cache;
  private final PostgresRunStates postgres;
  private final ClickHouseRunStates archive;
  private final TierBreakers breakers;
  private final RunStateSettings settings;
  private final RunStateMetrics metrics;

  LowerTiers(RunStateCache cache, PostgresRunStates postgres, ClickHouseRunStates archive, TierBreakers breakers,
      RunStateSettings settings, RunStateMetrics metrics) {
    this.cache = cache;
    this.postgres = postgres;
    this.archive = archive;
    this.breakers = breakers;
    this.settings = settings;
    this.metrics = metrics;
  }

  /** A version found below Redis, where, and whether PostgreSQL holds it as the run's newest. */
  record Found(RunState state, Tier tier, boolean tip) {}

  /** PostgreSQL's row of the run; throws UNAVAILABLE (with {@code context}) when it cannot be asked. */
  Optional<PostgresRunStates.Row> row(String runId, String context) {
    try {
      return breakers.postgresRead().callBlocking(() -> postgres.latest(runId));
    } catch (Exception e) {
      throw breakers.postgresRead().explain(e, context);
    }
  }

  /**
   * The newest version below Redis: PostgreSQL's checkpoint, or the archive's copy once the run
   * went there. Empty when neither has the run.
   */
  Optional<Found> latest(String runId) {
    Optional<PostgresRunStates.Row> row = row(runId, "run '" + runId + "' is not in Redis");
    if (row.isPresent() && row.get().state() != null) {
      return Optional.of(new Found(row.get().state(), Tier.TIER_POSTGRES, row.get().tip()));
    }
    if (row.isEmpty() || !row.get().archived()) {
      return Optional.empty();
    }
    try {
      return breakers.clickhouseRead().callBlocking(() -> archive.latest(runId))
          .map(s -> new Found(s, Tier.TIER_CLICKHOUSE, false));
    } catch (Exception e) {
      throw breakers.clickhouseRead().explain(e, "run '" + runId + "' is archived");
    }
  }

  /** A version kept by CHECKPOINT_FULL: PostgreSQL's history, or the archive's once archived. */
  Optional<Found> version(String runId, long version, Optional<PostgresRunStates.Row> row) {
    if (row.isPresent() && row.get().state() != null && row.get().state().getVersion() == version) {
      return Optional.of(new Found(row.get().state(), Tier.TIER_POSTGRES, false));
    }
    if (row.isPresent() && row.get().archived()) {
      try {
        return breakers.clickhouseRead().callBlocking(() -> archive.version(runId, version))
            .map(s -> new Found(s, Tier.TIER_CLICKHOUSE, false));
      } catch (Exception e) {
        throw breakers.clickhouseRead().explain(e, "run '" + runId + "' is archived");
      }
    }
    try {
      return breakers.postgresRead().callBlocking(() -> postgres.version(runId, version))
          .map(s -> new Found(s, Tier.TIER_POSTGRES, false));
    } catch (Exception e) {
      throw breakers.postgresRead().explain(e, "versions of run '" + runId + "' are kept there");
    }
  }

  /**
   * Puts a version found below Redis back into Redis (unless Redis has it or a newer one),
   * through the {@code redis-write} breaker: with Redis down this costs nothing. Completes once
   * Redis answered, or could not; never fails.
   */
  CompletableFuture<Boolean> restore(Found found) {
    CompletableFuture<Boolean> put = breakers.redisWrite()
        .call(() -> cache.restore(found.state(), found.tip(), ttl(found.state())));
    // Redis commands time out on their own (the request path's command timeout).
    return put.handle((restored, e) -> {
      if (e != null) {
        log.debug("run {} not restored into Redis: {}", found.state().getRunId(), e.toString());
        return false;
      }
      if (restored && found.tier() != Tier.TIER_REDIS) {
        metrics.restored(found.tier());
      }
      return restored;
    });
  }

  /** How long Redis keeps this version: its class's TTL, at most an hour once completed. */
  Duration ttl(RunState s) {
    Duration ttl = settings.ttl(s.getTtlClass());
    return s.getCompleted() && ttl.compareTo(COMPLETED_TTL) > 0 ? COMPLETED_TTL : ttl;
  }
}
