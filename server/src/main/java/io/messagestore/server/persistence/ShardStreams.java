package io.messagestore.server.persistence;

import io.lettuce.core.Consumer;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.models.stream.ClaimedMessages;
import io.lettuce.core.models.stream.PendingMessage;
import io.messagestore.api.v1.Message;
import io.messagestore.server.pump.Delivery;
import io.messagestore.server.pump.PumpSource;
import io.messagestore.server.pump.Round;
import io.messagestore.server.redis.RedisKeys;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The persistence streams of all shards as the source of the persister's pump: one lane per
 * shard, read as consumer {@code consumer} of the group {@value StreamPersister#GROUP}.
 *
 * <p>Reading: one non-blocking {@code XREADGROUP} per shard, all sent at once and waited for
 * together, so the shards cost one round trip. When the pump is idle, a blocking read ({@code
 * BLOCK 200ms}) on every shard, until one comes back; a shard whose blocking read is still out
 * is skipped by the next rounds until it comes back, so a shard is read by one command at a
 * time, which keeps its order. Every {@code max(100 ms, claimTimeout / 2)} a shard claims
 * ({@code XAUTOCLAIM}) the entries pending longer than {@code claimTimeout}: those of a dead
 * consumer, and those that failed here. After a Redis error a read reply may have been lost,
 * leaving entries pending under this consumer that it never saw, so the shard reads its own
 * pending entries again before new ones.
 *
 * <p>Acknowledging: per shard one script ({@link Acknowledgement}) does XACK + XDEL of the
 * committed entries and trims their threads' recent indexes. It is sent without waiting and its
 * reply looked at in the next round; it travels ahead of that round's read on the shard's
 * connection. A failed one is sent again with whatever else is unacknowledged; entries read
 * again meanwhile are not delivered again.
 *
 * <p>Now and then a shard's group loses the consumers stopped instances left in it
 * ({@link LeftoverConsumers}).
 */
final class ShardStreams implements PumpSource<StreamEntry> {
  private static final Logger log = LoggerFactory.getLogger(ShardStreams.class);
  private static final Duration READ_BLOCK = Duration.ofMillis(200);
  /** Longest wait for a reply on a persister connection (their command timeout is 5 s too). */
  private static final Duration REPLY_WAIT = Duration.ofSeconds(6);

  private final List<StreamShard> shards = new ArrayList<>();
  private final Consumer<String> consumer;
  private final Supplier<StatefulRedisConnection<String, byte[]>> connect;
  private final DeadLetters deadLetters;
  private final Clock clock;
  private final int batchSize;
  private final Duration claimTimeout;
  private final LeftoverConsumers leftovers;

  ShardStreams(RedisKeys keys, int recentWindow, String consumer,
      Supplier<StatefulRedisConnection<String, byte[]>> connect, DeadLetters deadLetters, Clock clock, int batchSize,
      Duration claimTimeout, Duration forgetConsumersAfter) {
    for (int s = 0; s < keys.shards(); s++) {
      shards.add(new StreamShard(s, keys.stream(s), new Acknowledgement(keys, recentWindow), REPLY_WAIT));
    }
    this.consumer = Consumer.from(StreamPersister.GROUP, consumer);
    this.connect = connect;
    this.deadLetters = deadLetters;
    this.clock = clock;
    this.batchSize = batchSize;
    this.claimTimeout = claimTimeout;
    this.leftovers = new LeftoverConsumers(forgetConsumersAfter, consumer, REPLY_WAIT);
  }

  @Override
  public String laneName(int lane) {
    return shards.get(lane).stream;
  }

  /** Opens the shards' connections (lazily, so a gateway started while Redis is down starts). */
  @Override
  public void prepare() {
    for (StreamShard s : shards) {
      if (s.connection == null) {
        s.connection = connect.get();
      }
      if (!s.groupReady) {
        try {
          // From "0": entries written before any persister ever ran are persisted too.
          s.connection.sync().xgroupCreate(XReadArgs.StreamOffset.from(s.stream, "0"), StreamPersister.GROUP,
              XGroupCreateArgs.Builder.mkstream());
        } catch (RedisBusyException e) {
          // BUSYGROUP: another instance (or an earlier run) created it.
        }
        s.groupReady = true;
      }
    }
    // Left over from the last round (one still out then, or one that failed): ahead of the reads.
    acknowledge();
  }

  /**
   * Adds what every shard has to the round: the entries of a blocking read that has come back,
   * else abandoned entries when a claim is due, the shard's own pending entries after an error,
   * or new ones. The shards' reads are sent together and waited for together. With {@code topUp}
   * only new entries are read.
   */
  @Override
  public boolean read(Round<StreamEntry> round, boolean topUp) {
    List<ShardRead> reading = new ArrayList<>();
    boolean failed = false;
    for (StreamShard s : shards) {
      if (s.blocking != null) {
        if (topUp || !s.blocking.isDone()) {
          continue;
        }
        RedisFuture<List<StreamMessage<String, byte[]>>> done = s.blocking;
        s.blocking = null;
        forgetLeftoversIfDue(s);
        int before = round.size();
        failed |= !collect(s, done, Read.NEW, round);
        if (round.size() > before) {
          round.markWoken();
        } else {
          // Back empty from its block: the shard is idle, and only a due claim is left to do.
          claimIfDue(s, round);
        }
        continue;
      }
      if (!topUp) {
        forgetLeftoversIfDue(s);
      }
      if (!topUp && claimIfDue(s, round)) {
        continue;
      }
      Read kind = !topUp && s.rereadOwnPending ? Read.OWN_PENDING : Read.NEW;
      reading.add(new ShardRead(s, kind, s.connection.async().xreadgroup(consumer,
          XReadArgs.Builder.count(batchSize), kind == Read.OWN_PENDING
              ? XReadArgs.StreamOffset.from(s.stream, s.ownPendingCursor)
              : XReadArgs.StreamOffset.lastConsumed(s.stream))));
    }
    for (ShardRead r : reading) {
      failed |= !collect(r.shard, r.reply, r.kind, round);
    }
    return failed;
  }

  private enum Read { NEW, OWN_PENDING }

  /** A non-blocking read sent this round, waited for once all are sent. */
  private record ShardRead(StreamShard shard, Read kind, RedisFuture<List<StreamMessage<String, byte[]>>> reply) {}

  /** Waits for a read's reply and adds its entries; false when it failed. */
  private boolean collect(StreamShard s, RedisFuture<List<StreamMessage<String, byte[]>>> read, Read kind,
      Round<StreamEntry> round) {
    List<StreamMessage<String, byte[]>> got;
    try {
      got = read.get(REPLY_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      // The pump is being stopped: it sees the interrupt.
      Thread.currentThread().interrupt();
      s.rereadOwnPending();
      return false;
    } catch (ExecutionException | TimeoutException e) {
      s.readFailed(e);
      return false;
    }
    if (kind == Read.OWN_PENDING) {
      if (got == null || got.isEmpty()) {
        // Entries that failed here before stay pending and come back through XAUTOCLAIM.
        s.rereadOwnPending = false;
        s.ownPendingCursor = "0";
        return true;
      }
      s.ownPendingCursor = got.get(got.size() - 1).getId();
    }
    if (got == null || got.isEmpty()) {
      return true;
    }
    List<Delivery<StreamEntry>> deliveries = new ArrayList<>(got.size());
    for (StreamMessage<String, byte[]> m : got) {
      if (s.unacked.contains(m.getId())) {
        // Committed already; its acknowledgement is on its way again.
        continue;
      }
      deliveries.add(StreamEntry.delivery(s.index, m, 1));
    }
    round.add(s.index, deliveries);
    return true;
  }

  /**
   * Nothing arrived anywhere: a blocking read on every shard that has none out, then a wait until
   * one of them comes back (with entries, or empty after the block). A shard that must read its
   * own pending entries again gets none: the next round reads them.
   */
  @Override
  public void awaitEntries() {
    List<CompletableFuture<?>> out = new ArrayList<>();
    for (StreamShard s : shards) {
      if (s.rereadOwnPending && s.blocking == null) {
        continue;
      }
      if (s.blocking == null) {
        s.blocking = s.connection.async().xreadgroup(consumer,
            XReadArgs.Builder.count(batchSize).block(READ_BLOCK), XReadArgs.StreamOffset.lastConsumed(s.stream));
      }
      out.add(s.blocking.toCompletableFuture());
    }
    if (out.isEmpty()) {
      return;
    }
    try {
      CompletableFuture.anyOf(out.toArray(new CompletableFuture[0]))
          .get(READ_BLOCK.plus(REPLY_WAIT).toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // The next round collects it and sees the failure.
    }
  }

  /** On a shard with no blocking read out (the script would wait behind it). */
  private void forgetLeftoversIfDue(StreamShard s) {
    if (s.forgetDue(clock.millis(), leftovers.periodMillis())) {
      leftovers.forget(s.connection, s.stream);
    }
  }

  /** Adds the shard's abandoned entries to the round when a claim is due; whether there were any. */
  private boolean claimIfDue(StreamShard s, Round<StreamEntry> round) {
    if (!s.claimDue(clock.millis(), claimTimeout)) {
      return false;
    }
    List<Delivery<StreamEntry>> claimed = claimAbandoned(s);
    round.add(s.index, claimed);
    return !claimed.isEmpty();
  }

  /** Entries pending longer than the claim timeout (a dead consumer's, or ones that failed here). */
  private List<Delivery<StreamEntry>> claimAbandoned(StreamShard s) {
    RedisCommands<String, byte[]> redis = s.connection.sync();
    ClaimedMessages<String, byte[]> claimed = redis.xautoclaim(s.stream,
        XAutoClaimArgs.Builder.xautoclaim(consumer, claimTimeout, "0-0").count(batchSize));
    List<StreamMessage<String, byte[]>> msgs = claimed.getMessages();
    if (msgs.isEmpty()) {
      return List.of();
    }
    // Delivery counts come from the pending list; XAUTOCLAIM has just counted this delivery.
    Map<String, Long> counts = new HashMap<>();
    List<PendingMessage> pending = redis.xpending(s.stream, consumer,
        Range.create(msgs.get(0).getId(), msgs.get(msgs.size() - 1).getId()), Limit.from(msgs.size() * 2L));
    for (PendingMessage p : pending) {
      counts.put(p.getId(), p.getRedeliveryCount());
    }
    List<Delivery<StreamEntry>> out = new ArrayList<>(msgs.size());
    for (StreamMessage<String, byte[]> m : msgs) {
      out.add(StreamEntry.delivery(s.index, m, counts.getOrDefault(m.getId(), 1L)));
    }
    log.info("persister {} claimed {} abandoned entries", s.stream, out.size());
    return out;
  }

  @Override
  public void committed(int lane, List<Delivery<StreamEntry>> entries) {
    shards.get(lane).committed(entries);
  }

  @Override
  public void deadLetter(Delivery<StreamEntry> d, String error) throws Exception {
    StreamShard s = shards.get(d.lane());
    Message m = d.item().message();
    deadLetters.add(s.stream, d.id(), d.item().payload(), m == null ? "" : m.getThreadId(),
        m == null ? "" : m.getMessageId(), error, d.deliveries(), d.item().idempotencyKey());
    s.unacked.add(d.id());
  }

  /** The entries not committed stay pending under this consumer: read them again. */
  @Override
  public void redeliver(int lane) {
    shards.get(lane).rereadOwnPending();
  }

  @Override
  public void recover(Throwable failure) {
    // Whatever was read and not committed is pending under this consumer: read it again.
    shards.forEach(StreamShard::rereadOwnPending);
    if (streamLost(failure)) {
      shards.forEach(sh -> sh.groupReady = false);
    }
  }

  @Override
  public void acknowledge() {
    for (StreamShard s : shards) {
      s.settleAcknowledgement();
      s.acknowledge();
    }
  }

  /** Entries that blocking reads delivered meanwhile are this consumer's now. */
  @Override
  public void collectOutstanding(Round<StreamEntry> round) {
    for (StreamShard s : shards) {
      if (s.blocking != null) {
        collect(s, s.blocking, Read.NEW, round);
        s.blocking = null;
      }
    }
  }

  @Override
  public void awaitAcknowledgements() {
    for (StreamShard s : shards) {
      s.awaitAcknowledgement();
    }
  }

  @Override
  public void close() {
    for (StreamShard s : shards) {
      if (s.connection != null) {
        s.connection.close();
      }
    }
  }

  /**
   * Redis lost a stream, and with it the consumer group (restarted without its data, flushed):
   * the group is created again, or the shard's entries would never be read.
   */
  static boolean streamLost(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      String message = String.valueOf(c.getMessage());
      if (message.startsWith("NOGROUP") || message.contains("stream key no longer exists")) {
        return true;
      }
    }
    return false;
  }
}
