package io.messagestore.server.runstate;

import io.messagestore.server.postgres.PostgresRunStates;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the versions written around Redis (while it was down) into Redis once it answers again:
 * Redis may come back with an older copy, and the newer PostgreSQL version must win.
 *
 * <p>Writes are safe without this (a run whose last write was synchronous asks PostgreSQL before
 * every write, {@link RunStateWrites}); reads are what it is for. Every instance looks for marked
 * runs ({@code run_states.redis_repair}) every {@code REDIS_REPAIR_INTERVAL} and at once when its
 * {@code redis-write} breaker closes; a run this instance wrote around Redis is read from
 * PostgreSQL here until its repair is done.
 */
final class RunRepair {
  private static final Logger log = LoggerFactory.getLogger(RunRepair.class);
  private static final int BATCH = 100;

  private final RunStateCache cache;
  private final PostgresRunStates postgres;
  private final LowerTiers below;
  private final Duration interval;
  private final Set<String> awaiting = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService worker;

  /** @param worker the run-state background thread, shared with {@link RunCheckpointer} */
  RunRepair(RunStateCache cache, PostgresRunStates postgres, LowerTiers below, Duration interval,
      ScheduledExecutorService worker) {
    this.worker = worker;
    this.cache = cache;
    this.postgres = postgres;
    this.below = below;
    this.interval = interval;
  }

  void start() {
    worker.scheduleWithFixedDelay(this::sweep, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Redis is answering again: repair now rather than at the next interval. */
  void redisIsBack() {
    worker.execute(this::sweep);
  }

  void wroteAroundRedis(String runId) {
    awaiting.add(runId);
  }

  /** Whether this instance wrote the run around Redis and Redis does not have that version yet. */
  boolean awaitsRepair(String runId) {
    return !awaiting.isEmpty() && awaiting.contains(runId);
  }

  void sweep() {
    Set<String> knownBefore = new HashSet<>(awaiting);
    List<PostgresRunStates.Row> marked;
    try {
      marked = postgres.awaitingRedisRepair(BATCH);
    } catch (Exception e) {
      log.debug("run repair cannot read PostgreSQL: {}", e.toString());
      return;
    }
    Set<String> stillMarked = new HashSet<>();
    for (PostgresRunStates.Row row : marked) {
      String runId = row.state().getRunId();
      stillMarked.add(runId);
      try {
        // Put in, or Redis has this version or a newer one: either way Redis is repaired.
        cache.restore(row.state(), row.tip(), below.ttl(row.state())).toCompletableFuture().get(10, TimeUnit.SECONDS);
        postgres.repairedInRedis(runId, row.version());
        stillMarked.remove(runId);
        awaiting.remove(runId);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        log.debug("run {} not repaired in Redis yet: {}", runId, e.toString());
        return;
      }
    }
    // Repaired by another instance meanwhile.
    knownBefore.removeIf(stillMarked::contains);
    awaiting.removeAll(knownBefore);
  }
}
