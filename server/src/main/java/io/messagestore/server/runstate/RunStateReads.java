package io.messagestore.server.runstate;

import com.google.protobuf.InvalidProtocolBufferException;
import io.messagestore.api.v1.GetRunStateResponse;
import io.messagestore.api.v1.RunState;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.auth.RunAccess;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.postgres.PostgresRunStates;
import io.messagestore.server.redis.RedisValues;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * GetRunState: the latest version from the near cache or Redis (one key, kept current by Redis's
 * invalidations), else PostgreSQL's newest checkpoint, else the archive's copy of a completed run;
 * a version found below Redis is put back into Redis before the answer, so the next read is a
 * Redis hit. A given version is Redis's when it is the latest, else it comes from the history that
 * CHECKPOINT_FULL keeps (PostgreSQL, then the archive).
 */
final class RunStateReads {
  private final RunStateCache cache;
  private final RedisValues redisValues;
  private final LowerTiers below;
  private final RunRepair repair;
  private final RunAccess access;
  private final Executor blocking;

  RunStateReads(RunStateCache cache, RedisValues redisValues, LowerTiers below, RunRepair repair, RunAccess access,
      Executor blocking) {
    this.cache = cache;
    this.redisValues = redisValues;
    this.below = below;
    this.repair = repair;
    this.access = access;
    this.blocking = blocking;
  }

  CompletableFuture<GetRunStateResponse> get(Caller caller, String runId, long version) {
    RunStateRequests.checkRead(runId, version);
    if (repair.awaitsRepair(runId)) {
      // Written here around Redis: Redis's copy is older until the repair is done.
      return belowRedis(caller, runId, version);
    }
    return redisValues.get(cache.stateKey(runId))
        .handle((values, e) -> e == null ? parse(values[0]) : null)
        .thenCompose(inRedis -> {
          if (inRedis == null) {
            return belowRedis(caller, runId, version);
          }
          access.requireRead(caller, runId, inRedis.getUserId());
          if (version == 0 || version == inRedis.getVersion()) {
            return CompletableFuture.completedFuture(answer(inRedis, Tier.TIER_REDIS));
          }
          return CompletableFuture.supplyAsync(() -> kept(runId, version, below.row(runId,
              "versions of run '" + runId + "' are kept there")), blocking);
        });
  }

  private CompletableFuture<GetRunStateResponse> belowRedis(Caller caller, String runId, long version) {
    if (version != 0) {
      return CompletableFuture.supplyAsync(() -> {
        var row = below.row(runId, "run '" + runId + "' is not in Redis");
        if (row.isEmpty() || !row.get().exists()) {
          throw notFound(runId);
        }
        access.requireRead(caller, runId, row.get().owner());
        return kept(runId, version, row);
      }, blocking);
    }
    return CompletableFuture.supplyAsync(() -> below.latest(runId), blocking).thenCompose(found -> {
      if (found.isEmpty()) {
        throw notFound(runId);
      }
      access.requireRead(caller, runId, found.get().state().getUserId());
      return below.restore(found.get()).thenApply(restored -> answer(found.get().state(), found.get().tier()));
    });
  }

  private GetRunStateResponse kept(String runId, long version,
      Optional<PostgresRunStates.Row> row) {
    return below.version(runId, version, row)
        .map(f -> answer(f.state(), f.tier()))
        .orElseThrow(() -> new StoreError.NotFound("version " + version + " of run '" + runId + "' was not kept "
            + "(only versions written with CHECKPOINT_FULL are, besides the latest)"));
  }

  private static RunState parse(byte[] stored) {
    if (stored == null) {
      return null;
    }
    try {
      return RunState.parseFrom(stored);
    } catch (InvalidProtocolBufferException e) {
      // Not a run state this gateway stored: read the run from below instead.
      return null;
    }
  }

  private static StoreError.NotFound notFound(String runId) {
    return new StoreError.NotFound("run '" + runId + "' not found");
  }

  private static GetRunStateResponse answer(RunState s, Tier from) {
    return GetRunStateResponse.newBuilder().setRunState(s).setServedFrom(from).build();
  }
}
