package io.messagestore.server.runstate;

import com.google.protobuf.Timestamp;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.messagestore.api.v1.Checkpoint;
import io.messagestore.api.v1.PutRunStateRequest;
import io.messagestore.api.v1.PutRunStateResponse;
import io.messagestore.api.v1.RunState;
import io.messagestore.api.v1.Tier;
import io.messagestore.api.v1.TtlClass;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.auth.RunAccess;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.error.StoreError.TierUnavailable.Stored;
import io.messagestore.server.postgres.PostgresRunStates;
import io.messagestore.server.resilience.GuardedCall;
import io.messagestore.server.resilience.TierBreakers;
import io.messagestore.server.runstate.RunStateCache.Mode;
import io.messagestore.server.runstate.RunStateCache.Reply;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * PutRunState: one compare-and-set in Redis ({@code put.lua}) decides every write while Redis is
 * up, so concurrent writers on any number of gateways never lose an update; PostgreSQL takes the
 * synchronous checkpoints, and the writes while Redis is down when it can prove it holds the
 * run's newest version.
 *
 * <p>The proof is PostgreSQL's {@code tip} (migration V6): set by a synchronous checkpoint, taken
 * back ({@link PostgresRunStates#revokeTip}) before a version goes to Redis alone after one. So
 * a run whose last write was synchronous is marked in Redis ({@code t}) as one PostgreSQL may be
 * ahead of (a write went around Redis while it was down): every write of it asks PostgreSQL
 * first, and when PostgreSQL is ahead its version is put into Redis before the write is tried
 * again. The newer version always wins.
 */
public final class RunStateWrites {
  /** A write that keeps meeting other writes between its steps gives up after this many tries. */
  private static final int MAX_ATTEMPTS = 8;

  private final RunStateCache cache;
  private final LowerTiers below;
  private final PostgresRunStates postgres;
  private final RunRepair repair;
  private final TierBreakers breakers;
  private final RunAccess access;
  private final RunStateRequests requests;
  private final RunStateMetrics metrics;
  private final Executor blocking;
  private final Clock clock;

  RunStateWrites(RunStateCache cache, LowerTiers below, PostgresRunStates postgres, RunRepair repair,
      TierBreakers breakers, RunAccess access, RunStateRequests requests, RunStateMetrics metrics, Executor blocking,
      Clock clock) {
    this.cache = cache;
    this.below = below;
    this.postgres = postgres;
    this.repair = repair;
    this.breakers = breakers;
    this.access = access;
    this.requests = requests;
    this.metrics = metrics;
    this.blocking = blocking;
    this.clock = clock;
  }

  /** One write as the steps below share it: the request, its state without a version, and its Redis form. */
  private record Put(Caller caller, PutRunStateRequest request, RunState unversioned, RunStateCache.Write write) {
    boolean sync() {
      return write.sync();
    }

    boolean full() {
      return request.getCheckpoint() == Checkpoint.CHECKPOINT_FULL;
    }

    String runId() {
      return request.getRunId();
    }

    RunState at(long version) {
      return unversioned.toBuilder().setVersion(version).build();
    }
  }

  public CompletableFuture<PutRunStateResponse> put(Caller caller, PutRunStateRequest request) {
    requests.check(request);
    Instant now = clock.instant();
    RunState unversioned = RunState.newBuilder()
        .setRunId(request.getRunId())
        .setThreadId(request.getThreadId())
        .setUserId(caller.userId())
        .setState(request.getState())
        .setCompleted(request.getCompleted())
        .setTtlClass(request.getTtlClass() == TtlClass.TTL_CLASS_UNSPECIFIED ? TtlClass.CHECKPOINT
            : request.getTtlClass())
        .setUpdatedAt(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
        .build();
    Checkpoint kind = request.getCheckpoint();
    boolean sync = kind == Checkpoint.CHECKPOINT_CRITICAL || kind == Checkpoint.CHECKPOINT_FULL;
    RunStateCache.Write write = new RunStateCache.Write(request.getRunId(), caller.userId(),
        request.getExpectedVersion(), sync, kind == Checkpoint.CHECKPOINT_AUTO, request.getCompleted(),
        below.ttl(unversioned), unversioned.toByteArray());
    Put put = new Put(caller, request, unversioned, write);
    return attempt(put, Mode.EXISTING, 0, 1).thenApply(response -> {
      metrics.written(kind);
      return response;
    });
  }

  private CompletableFuture<PutRunStateResponse> attempt(Put put, Mode mode, long checked, int attempt) {
    if (attempt > MAX_ATTEMPTS) {
      return CompletableFuture.failedFuture(new StoreError.Conflict("run '" + put.runId() + "' kept changing "
          + "between the steps of this write (" + MAX_ATTEMPTS + " tries); nothing was written, retry"));
    }
    // The reply arrives on the event loop that sent the script: a write to Redis alone is
    // answered right there.
    return breakers.redisWrite().call(() -> cache.put(put.write(), mode, checked, clock.millis()))
        .handle((reply, failure) -> failure == null
            ? onReply(put, reply, attempt)
            : aroundRedis(put, failure))
        .thenCompose(f -> f);
  }

  private CompletableFuture<PutRunStateResponse> onReply(Put put, Reply reply, int attempt) {
    if (reply instanceof Reply.Applied applied) {
      RunState written = put.at(applied.version());
      if (!put.sync()) {
        return CompletableFuture.completedFuture(answer(written, Tier.TIER_REDIS));
      }
      return CompletableFuture.supplyAsync(() -> checkpointAfterRedis(put, written), blocking);
    }
    if (reply instanceof Reply.Denied) {
      return CompletableFuture.failedFuture(access.denied(put.runId(), put.caller()));
    }
    if (reply instanceof Reply.Conflict conflict) {
      return CompletableFuture.failedFuture(conflict(put, conflict.current()));
    }
    if (reply instanceof Reply.Completed completed) {
      return CompletableFuture.failedFuture(new StoreError.Conflict("run '" + put.runId() + "' was completed at "
          + "version " + completed.current() + " and takes no more writes; nothing was written"));
    }
    if (reply instanceof Reply.Moved) {
      return attempt(put, Mode.EXISTING, 0, attempt + 1);
    }
    if (reply instanceof Reply.AskPostgres ask) {
      return CompletableFuture.supplyAsync(() -> askPostgres(put, ask.current()), blocking)
          .thenCompose(next -> next.apply(attempt + 1));
    }
    // Not in Redis: a new run, or one Redis lost (flush, expiry) that a lower tier holds.
    return CompletableFuture.supplyAsync(() -> notInRedis(put), blocking)
        .thenCompose(next -> next.apply(attempt + 1));
  }

  /** What to try next, given the attempt number. */
  @FunctionalInterface
  private interface Next {
    CompletableFuture<PutRunStateResponse> apply(int attempt);
  }

  private Next notInRedis(Put put) {
    var row = below.row(put.runId(), "run '" + put.runId() + "' is not in Redis, and only PostgreSQL can tell a new "
        + "run from one Redis lost; nothing was written");
    if (row.isPresent() && !access.mayWrite(put.caller(), row.get().owner())) {
      throw access.denied(put.runId(), put.caller());
    }
    if (row.isPresent() && row.get().archived()) {
      throw new StoreError.Conflict("run '" + put.runId() + "' was completed at version " + row.get().version()
          + " and takes no more writes; nothing was written");
    }
    if (row.isEmpty() || row.get().state() == null) {
      return attempt -> attempt(put, Mode.CREATE, 0, attempt);
    }
    LowerTiers.Found found = new LowerTiers.Found(row.get().state(), Tier.TIER_POSTGRES, row.get().tip());
    return attempt -> below.restore(found).thenCompose(restored -> attempt(put, Mode.EXISTING, 0, attempt));
  }

  /**
   * Redis's copy is at {@code redisVersion} and its last write was synchronous: PostgreSQL may be
   * ahead (a write went around Redis), and a write to Redis alone must take PostgreSQL's tip back
   * first.
   */
  private Next askPostgres(Put put, long redisVersion) {
    long expected = put.request().getExpectedVersion();
    if (expected != 0 && expected != redisVersion) {
      if (postgresAhead(put, redisVersion)) {
        return restoreThenRetry(put);
      }
      throw conflict(put, redisVersion);
    }
    if (!put.sync()) {
      boolean revoked;
      try {
        revoked = breakers.postgresWrite().callBlocking(
            () -> postgres.revokeTip(put.runId(), put.caller().userId(), redisVersion + 1));
      } catch (Exception e) {
        throw breakers.postgresWrite().explain(e, "its newest version is checkpointed there, which must be "
            + "taken back before a write to Redis alone; nothing was written");
      }
      return revoked ? attempt -> attempt(put, Mode.CHECKED, redisVersion, attempt) : restoreThenRetry(put);
    }
    RunState next = put.at(redisVersion + 1);
    boolean applied;
    try {
      applied = breakers.postgresWrite().callBlocking(
          () -> postgres.checkpointBeforeRedis(next, put.full(), redisVersion));
    } catch (Exception e) {
      throw breakers.postgresWrite().explain(e, "the write is checkpointed synchronously; nothing was written");
    }
    if (!applied) {
      // Not ahead: a write to Redis alone has claimed the next version (the fence), and may be on
      // its way or may never come (its gateway died). Redis decides between the two, on this
      // version; the checkpoint follows.
      return postgresAhead(put, redisVersion) ? restoreThenRetry(put)
          : attempt -> attempt(put, Mode.CHECKED, redisVersion, attempt);
    }
    metrics.checkpointed(true, 1);
    // PostgreSQL decided; Redis takes it unless a newer version got there first (which was
    // then decided by PostgreSQL after this one).
    return attempt -> below.restore(new LowerTiers.Found(next, Tier.TIER_POSTGRES, true))
        .thenApply(restored -> answer(next, Tier.TIER_POSTGRES));
  }

  private boolean postgresAhead(Put put, long redisVersion) {
    return below.row(put.runId(), null).map(r -> r.version() > redisVersion).orElse(false);
  }

  private Next restoreThenRetry(Put put) {
    var row = below.row(put.runId(), null);
    if (row.isEmpty() || row.get().state() == null) {
      return attempt -> attempt(put, Mode.EXISTING, 0, attempt);
    }
    LowerTiers.Found found = new LowerTiers.Found(row.get().state(), Tier.TIER_POSTGRES, row.get().tip());
    return attempt -> below.restore(found).thenCompose(r -> attempt(put, Mode.EXISTING, 0, attempt));
  }

  private PutRunStateResponse checkpointAfterRedis(Put put, RunState written) {
    try {
      breakers.postgresWrite().callBlocking(() -> postgres.checkpointAfterRedis(written, put.full()));
    } catch (Exception e) {
      StoreError why = breakers.postgresWrite().explain(e, null);
      throw new StoreError.TierUnavailable("run '" + put.runId() + "' is stored in Redis at version "
          + written.getVersion() + " but its synchronous checkpoint failed (" + why.description() + "); a "
          + "background checkpoint retries it. Read it back before writing again", Stored.STORED, e);
    }
    metrics.checkpointed(true, 1);
    return answer(written, Tier.TIER_POSTGRES);
  }

  /**
   * Redis could not take the write. Only when it surely did not apply it (the breaker is open,
   * or no connection) may PostgreSQL take it, and only as the run's next version after the one
   * PostgreSQL provably holds as the newest.
   */
  private CompletableFuture<PutRunStateResponse> aroundRedis(Put put, Throwable failure) {
    Throwable cause = GuardedCall.unwrap(failure);
    if (cause instanceof StoreError e) {
      return CompletableFuture.failedFuture(e);
    }
    if (!surelyNotApplied(cause)) {
      return CompletableFuture.failedFuture(new StoreError.TierUnavailable("redis did not answer the write of run '"
          + put.runId() + "' (" + StoreError.describe(cause) + "); it may have been applied: read the run "
          + "before writing again", Stored.MAYBE, cause));
    }
    return CompletableFuture.supplyAsync(() -> {
      PostgresRunStates.Failover result;
      try {
        result = breakers.postgresWrite().callBlocking(() -> postgres.writeAroundRedis(put.runId(), put.full(),
            row -> {
              if (!access.mayWrite(put.caller(), row.owner())) {
                throw access.denied(put.runId(), put.caller());
              }
              if (row.completed()) {
                throw new StoreError.Conflict("run '" + put.runId() + "' was completed at version " + row.version()
                    + " and takes no more writes; nothing was written");
              }
              long expected = put.request().getExpectedVersion();
              if (expected != 0 && expected != row.version()) {
                throw conflict(put, row.version());
              }
            }, put::at));
      } catch (Exception e) {
        throw breakers.postgresWrite().explain(e, "redis is unavailable too (" + StoreError.describe(cause)
            + "); nothing was written");
      }
      if (result instanceof PostgresRunStates.Failover.Written written) {
        metrics.failoverWrite();
        metrics.checkpointed(true, 1);
        repair.wroteAroundRedis(put.runId());
        return answer(written.state(), Tier.TIER_POSTGRES);
      }
      throw new StoreError.TierUnavailable("redis is unavailable (" + StoreError.describe(cause) + ") and "
          + "PostgreSQL cannot prove it holds the newest version of run '" + put.runId() + "' (only a run whose "
          + "last write was checkpointed synchronously can be written without Redis); nothing was written",
          Stored.NOTHING, cause);
    }, blocking);
  }

  /**
   * The breaker refused the call, there was no connection, or lettuce rejected the command while
   * disconnected: Redis never saw it. Anything else (a timeout, a connection lost mid-call) may
   * have been applied, and a write around Redis could then fork the run.
   */
  private static boolean surelyNotApplied(Throwable cause) {
    return cause instanceof CallNotPermittedException || cause instanceof RedisConnectionException
        || (cause instanceof RedisException && String.valueOf(cause.getMessage()).startsWith("Currently not connected"));
  }

  private StoreError.Conflict conflict(Put put, long current) {
    metrics.conflict();
    return new StoreError.Conflict("run '" + put.runId() + "' is at version " + current + ", not expected_version "
        + put.request().getExpectedVersion() + "; nothing was written");
  }

  private static PutRunStateResponse answer(RunState written, Tier by) {
    return PutRunStateResponse.newBuilder().setRunState(written).setAcknowledgedBy(by).build();
  }
}
