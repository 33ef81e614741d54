package io.messagestore.server.runstate;

import com.google.protobuf.InvalidProtocolBufferException;
import io.messagestore.api.v1.RunState;
import io.messagestore.server.postgres.PostgresRunStates;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background checkpoints, in every instance: takes the runs whose checkpoint is due from each
 * shard's due set ({@code put.lua} puts them there by the CHECKPOINT_AUTO policy, and every
 * completed run at once), writes their current Redis versions to PostgreSQL in one batch, and
 * tells Redis what PostgreSQL holds now. A run taken is held for {@link #LEASE}, so instances do
 * not save the same run twice; one whose checkpoint failed (PostgreSQL away, this instance
 * killed) comes due again when the lease runs out. Completed runs go on from PostgreSQL to the
 * archive ({@code archive.RunArchiveSource}).
 */
final class RunCheckpointer {
  private static final Logger log = LoggerFactory.getLogger(RunCheckpointer.class);
  static final Duration LEASE = Duration.ofSeconds(30);
  /** How often the due sets are looked at: the delay a due checkpoint may add. */
  static final Duration POLL = Duration.ofMillis(200);
  private static final int BATCH = 200;
  private static final long REDIS_WAIT_SECONDS = 10;

  private final RunStateCache cache;
  private final PostgresRunStates postgres;
  private final RunStateMetrics metrics;
  private final Clock clock;
  private final ScheduledExecutorService worker;

  /** @param worker the run-state background thread, shared with {@link RunRepair} */
  RunCheckpointer(RunStateCache cache, PostgresRunStates postgres, RunStateMetrics metrics, Clock clock,
      ScheduledExecutorService worker) {
    this.worker = worker;
    this.cache = cache;
    this.postgres = postgres;
    this.metrics = metrics;
    this.clock = clock;
  }

  void start() {
    worker.scheduleWithFixedDelay(this::round, POLL.toMillis(), POLL.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** One look at every shard; a failing tier ends the round (the lease brings the runs back). */
  void round() {
    for (int shard = 0; shard < cache.shards(); shard++) {
      try {
        checkpointDue(shard);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        log.debug("background run checkpoints wait: {}", e.toString());
        return;
      }
    }
  }

  private void checkpointDue(int shard) throws Exception {
    long readAt = clock.millis();
    List<String> runs = cache.claimDue(shard, readAt, LEASE, BATCH).toCompletableFuture()
        .get(REDIS_WAIT_SECONDS, TimeUnit.SECONDS);
    if (runs.isEmpty()) {
      return;
    }
    List<byte[]> stored = cache.states(runs).toCompletableFuture().get(REDIS_WAIT_SECONDS, TimeUnit.SECONDS);
    List<RunState> states = new ArrayList<>(runs.size());
    for (int i = 0; i < runs.size(); i++) {
      if (stored.get(i) == null) {
        // Expired or lost: nothing to save; saved.lua takes it off the due set.
        cache.saved(runs.get(i), 0, readAt).toCompletableFuture().get(REDIS_WAIT_SECONDS, TimeUnit.SECONDS);
        continue;
      }
      try {
        states.add(RunState.parseFrom(stored.get(i)));
      } catch (InvalidProtocolBufferException e) {
        log.warn("run {} has a value in Redis that is no run state; not checkpointed: {}", runs.get(i), e.toString());
      }
    }
    if (states.isEmpty()) {
      return;
    }
    postgres.checkpointInBackground(states);
    metrics.checkpointed(false, states.size());
    for (RunState s : states) {
      cache.saved(s.getRunId(), s.getVersion(), readAt).toCompletableFuture().get(REDIS_WAIT_SECONDS, TimeUnit.SECONDS);
    }
  }
}
