package io.messagestore.server.runstate;

import io.messagestore.api.v1.GetRunStateResponse;
import io.messagestore.api.v1.PutRunStateRequest;
import io.messagestore.api.v1.PutRunStateResponse;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.auth.RunAccess;
import io.messagestore.server.clickhouse.ClickHouseRunStates;
import io.messagestore.server.config.RunStateSettings;
import io.messagestore.server.postgres.PostgresRunStates;
import io.messagestore.server.redis.NearCache;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.redis.RedisValues;
import io.messagestore.server.resilience.TierBreakers;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Agent run state: PutRunState ({@link RunStateWrites}), GetRunState ({@link RunStateReads}), and
 * the background work that keeps the tiers in step: checkpoints by policy
 * ({@link RunCheckpointer}) and the repair of Redis after writes went around it
 * ({@link RunRepair}). Completed runs move to ClickHouse with the archiver.
 */
public final class RunStates implements AutoCloseable {
  private final RunStateWrites writes;
  private final RunStateReads reads;
  private final RunCheckpointer checkpointer;
  private final RunRepair repair;
  /** The background work (checkpoints, repairs) on one thread: neither is on a caller's path. */
  private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "run-state-worker");
    t.setDaemon(true);
    return t;
  });

  public RunStates(RedisTier redis, NearCache nearCache, RedisValues redisValues, RedisKeys keys,
      PostgresRunStates postgres, ClickHouseRunStates archive, TierBreakers breakers, RunStateSettings settings,
      Duration repairInterval, Executor blocking, Clock clock, MeterRegistry meters) {
    RunStateMetrics metrics = new RunStateMetrics(meters);
    RunStateCache cache = new RunStateCache(redis, nearCache, keys, settings);
    LowerTiers below = new LowerTiers(cache, postgres, archive, breakers, settings, metrics);
    RunAccess access = new RunAccess();
    repair = new RunRepair(cache, postgres, below, repairInterval, worker);
    breakers.redisWrite().whenClosed(repair::redisIsBack);
    writes = new RunStateWrites(cache, below, postgres, repair, breakers, access,
        new RunStateRequests(settings.maxStateBytes()), metrics, blocking, clock);
    reads = new RunStateReads(cache, redisValues, below, repair, access, blocking);
    checkpointer = new RunCheckpointer(cache, postgres, metrics, clock, worker);
  }

  public RunStates start() {
    repair.start();
    checkpointer.start();
    return this;
  }

  public CompletableFuture<PutRunStateResponse> put(Caller caller, PutRunStateRequest request) {
    return writes.put(caller, request);
  }

  /** @param version 0 for the latest */
  public CompletableFuture<GetRunStateResponse> get(Caller caller, String runId, long version) {
    return reads.get(caller, runId, version);
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
