package io.messagestore.server.persistence;

import io.lettuce.core.api.StatefulRedisConnection;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.PostgresTier;
import io.messagestore.server.pump.BatchPump;
import io.messagestore.server.pump.PumpListener;
import io.messagestore.server.redis.RedisKeys;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Moves the persistence streams of all shards into PostgreSQL: one loop per gateway instance, a
 * {@link BatchPump} from the shard streams ({@link ShardStreams}, one lane per shard) to
 * PostgreSQL ({@link PostgresDestination}).
 *
 * <p>Rounds run back to back on one thread. A round reads what has arrived on every shard (one
 * non-blocking {@code XREADGROUP} per shard, all sent at once, so the shards cost one round
 * trip), commits all of it in one statement and transaction
 * ({@link io.messagestore.server.pump.GroupCommit}), tells the {@link Persisters} (which
 * announce it), and sends the acknowledgements (XACK + XDEL, so a stream's length is its
 * backlog) without waiting for them: on each shard's connection they go ahead of the next
 * round's read, and their replies are looked at then. Under load a round
 * therefore holds everything that arrived while the round before was committed, which is the
 * group commit durable sends wait for, and it costs one read, one commit and one acknowledgement
 * round trip whatever the number of shards. (One persister per shard, handing batches to a
 * shared committer, cost a durable send about twice the gateway CPU: docs/BENCHMARKS.md.) When a
 * round finds nothing, the loop blocks on every shard ({@code BLOCK 200ms}) until one has
 * entries; a short batch read that way waits the linger once for company, unless a durable send
 * waits for one of its entries.
 *
 * <p>Order: a shard is read by one command at a time and its entries are committed in the order
 * read, one round after the other, which keeps a thread's order (a thread lives in one shard).
 *
 * <p>Failure handling: PostgreSQL unreachable - the same round is retried until it commits (the
 * entries stay pending under this consumer, so nothing counts against them). A shard's batch
 * refused for its data - its entries are retried one by one, the good ones commit, a bad one
 * stays pending and comes back through XAUTOCLAIM until it has been delivered {@code
 * maxDeliveries} times, then goes to the dead-letter stream; the other shards' batches commit
 * as usual. Entries left pending by a dead gateway are claimed after {@code claimTimeout}. After
 * a Redis error a read reply may have been lost, so the shard reads its own pending entries
 * again before new ones.
 */
public final class StreamPersister implements Runnable {
  /** The consumer group of the persisters on every shard stream. */
  public static final String GROUP = "persisters";
  /** Stream entry field set on entries of durable sends (see send.lua). */
  static final String F_DURABLE = "d";
  /** Stream entry field holding the message's idempotency key, when it has one (see send.lua). */
  static final String F_IDEMPOTENCY_KEY = "k";

  private final BatchPump<StreamEntry> pump;

  StreamPersister(RedisKeys keys, int recentWindow, String consumer,
      Supplier<StatefulRedisConnection<String, byte[]>> connect, PostgresTier postgresTier, PostgresMessageStore postgres,
      DeadLetters deadLetters, PumpListener<StreamEntry> listener, Clock clock, int batchSize, Duration linger,
      Duration claimTimeout, int maxDeliveries, Duration forgetConsumersAfter) {
    this.pump = new BatchPump<>("persister",
        new ShardStreams(keys, recentWindow, consumer, connect, deadLetters, clock, batchSize, claimTimeout,
            forgetConsumersAfter),
        new PostgresDestination(postgresTier, postgres), listener, clock, batchSize, linger, maxDeliveries);
  }

  /** Stops reading; the round being committed finishes and is acknowledged. */
  void stop() {
    pump.stop();
  }

  @Override
  public void run() {
    pump.run();
  }
}
