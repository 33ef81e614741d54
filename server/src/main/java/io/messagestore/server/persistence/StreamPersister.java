package io.messagestore.server.persistence;

import com.google.protobuf.InvalidProtocolBufferException;
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
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.PostgresTier;
import io.messagestore.server.redis.RedisKeys;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the persistence streams of all shards into PostgreSQL: one loop per gateway instance.
 *
 * <p>Rounds run back to back on one thread. A round reads what has arrived on every shard (one
 * non-blocking {@code XREADGROUP} per shard, all sent at once, so the shards cost one round
 * trip), commits all of it in one statement and transaction ({@link GroupCommit}), completes the
 * durable sends waiting for it, and sends the acknowledgements (XACK + XDEL, so a stream's
 * length is its backlog) without waiting for them: on each shard's connection they go ahead of
 * the next round's read, and their replies are looked at then. Under load a round therefore
 * holds everything that arrived while the round before was committed, which is the group
 * commit durable sends wait for, and it costs one read, one commit and one acknowledgement
 * round trip whatever the number of shards. (One persister per shard, handing batches to a
 * shared committer, cost a durable send about twice the gateway CPU: docs/BENCHMARKS.md.)
 * When a round finds nothing, the loop blocks on every shard ({@code BLOCK 200ms}) until one
 * has entries; a short batch read that way waits the linger once for company, unless a durable
 * send waits for one of its entries.
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
final class StreamPersister implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(StreamPersister.class);
  static final String GROUP = "persisters";
  /** Stream entry field set on entries of durable sends (see send.lua). */
  static final String F_DURABLE = "d";
  /** Stream entry field holding the message's idempotency key, when it has one (see send.lua). */
  static final String F_IDEMPOTENCY_KEY = "k";
  private static final Duration READ_BLOCK = Duration.ofMillis(200);
  /** Longest wait for a reply on a persister connection (their command timeout is 5 s too). */
  private static final Duration REPLY_WAIT = Duration.ofSeconds(6);
  private static final Duration RETRY_MIN = Duration.ofMillis(50);
  private static final Duration RETRY_MAX = Duration.ofSeconds(1);

  /** What a commit writes for one entry. */
  record Row(Message message, String idempotencyKey) {}

  private final List<Shard> shards = new ArrayList<>();
  private final String consumer;
  private final Supplier<StatefulRedisConnection<String, byte[]>> connect;
  private final PostgresTier postgresTier;
  private final PostgresMessageStore postgres;
  private final GroupCommit<Row> groupCommit;
  private final DeadLetters deadLetters;
  private final PersistenceObserver observer;
  private final Clock clock;
  private final int batchSize;
  private final Duration linger;
  private final Duration claimTimeout;
  private final int maxDeliveries;
  private volatile boolean running = true;

  StreamPersister(RedisKeys keys, int recentWindow, String consumer,
      Supplier<StatefulRedisConnection<String, byte[]>> connect, PostgresTier postgresTier, PostgresMessageStore postgres,
      DeadLetters deadLetters, PersistenceObserver observer, Clock clock, int batchSize, Duration linger,
      Duration claimTimeout, int maxDeliveries) {
    for (int s = 0; s < keys.shards(); s++) {
      shards.add(new Shard(keys.stream(s), new Acknowledgement(keys, recentWindow)));
    }
    this.consumer = consumer;
    this.connect = connect;
    this.postgresTier = postgresTier;
    this.postgres = postgres;
    this.groupCommit = new GroupCommit<>(rows -> postgres.insert(
        rows.stream().map(Row::message).toList(), rows.stream().map(Row::idempotencyKey).toList()));
    this.deadLetters = deadLetters;
    this.observer = observer;
    this.clock = clock;
    this.batchSize = batchSize;
    this.linger = linger;
    this.claimTimeout = claimTimeout;
    this.maxDeliveries = maxDeliveries;
  }

  /** Stops reading; the round being committed finishes and is acknowledged. */
  void stop() {
    running = false;
  }

  @Override
  public void run() {
    Duration backoff = RETRY_MIN;
    while (running) {
      try {
        if (!postgresTier.schemaReady()) {
          // Nothing can commit before the schema exists; the health monitor creates it.
          pause(backoff);
          backoff = next(backoff);
          continue;
        }
        prepareShards();
        Round round = new Round();
        boolean readFailed = read(round, false);
        if (round.isEmpty()) {
          if (readFailed) {
            pause(backoff);
            backoff = next(backoff);
          } else {
            awaitEntries();
          }
          continue;
        }
        backoff = RETRY_MIN;
        // Lingering trades latency nobody sees for fewer commits; a durable send sees all of it.
        if (round.woke && round.size() < batchSize && !linger.isZero() && !round.awaited()) {
          pause(linger);
          read(round, true);
        }
        commit(round);
        sendAcknowledgements();
      } catch (RuntimeException | Error e) {
        // Whatever was read and not committed is pending under this consumer: read it again.
        shards.forEach(Shard::rereadOwnPending);
        if (streamLost(e)) {
          shards.forEach(sh -> sh.groupReady = false);
        }
        if (running) {
          log.debug("persister waiting for redis: {}", e.toString());
          pause(backoff);
          backoff = next(backoff);
        }
      }
    }
    finish();
  }

  /** Opens the shards' connections (lazily, so a gateway started while Redis is down starts). */
  private void prepareShards() {
    for (Shard s : shards) {
      if (s.connection == null) {
        s.connection = connect.get();
      }
      if (!s.groupReady) {
        try {
          // From "0": entries written before any persister ever ran are persisted too.
          s.connection.sync().xgroupCreate(XReadArgs.StreamOffset.from(s.stream, "0"), GROUP,
              XGroupCreateArgs.Builder.mkstream());
        } catch (RedisBusyException e) {
          // BUSYGROUP: another instance (or an earlier run) created it.
        }
        s.groupReady = true;
      }
    }
    // Left over from the last round (one still out then, or one that failed): ahead of the reads.
    sendAcknowledgements();
  }

  /**
   * Adds what every shard has to the round: the entries of a blocking read that has come back,
   * else abandoned entries when a claim is due, the shard's own pending entries after an error,
   * or new ones. The shards' reads are sent together and waited for together. A shard whose
   * blocking read is still out is skipped: it is read by one command at a time, which is what
   * keeps its order. With {@code newOnly} (topping a round up) only new entries are read.
   *
   * @return whether a read failed
   */
  private boolean read(Round round, boolean newOnly) {
    List<ShardRead> reading = new ArrayList<>();
    boolean failed = false;
    for (Shard s : shards) {
      if (s.blocking != null) {
        if (newOnly || !s.blocking.isDone()) {
          continue;
        }
        RedisFuture<List<StreamMessage<String, byte[]>>> done = s.blocking;
        s.blocking = null;
        int before = round.size();
        failed |= !collect(s, done, Read.NEW, round);
        if (round.size() > before) {
          round.woke = true;
        } else {
          // Back empty from its block: the shard is idle, and only a due claim is left to do.
          claimIfDue(s, round);
        }
        continue;
      }
      if (!newOnly && claimIfDue(s, round)) {
        continue;
      }
      Read kind = !newOnly && s.rereadOwnPending ? Read.OWN_PENDING : Read.NEW;
      reading.add(new ShardRead(s, kind, s.connection.async().xreadgroup(Consumer.from(GROUP, consumer),
          XReadArgs.Builder.count(batchSize), kind == Read.OWN_PENDING
              ? XReadArgs.StreamOffset.from(s.stream, s.ownPendingCursor)
              : XReadArgs.StreamOffset.lastConsumed(s.stream))));
    }
    for (ShardRead r : reading) {
      failed |= !collect(r.shard, r.reply, r.kind, round);
    }
    return failed;
  }

  /** A non-blocking read sent this round, waited for once all are sent. */
  private record ShardRead(Shard shard, Read kind, RedisFuture<List<StreamMessage<String, byte[]>>> reply) {}

  /** Waits for a read's reply and adds its entries; false when it failed. */
  private boolean collect(Shard s, RedisFuture<List<StreamMessage<String, byte[]>>> read, Read kind, Round round) {
    List<StreamMessage<String, byte[]>> got;
    try {
      got = read.get(REPLY_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
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
    List<Delivery> deliveries = new ArrayList<>(got.size());
    for (StreamMessage<String, byte[]> m : got) {
      if (s.unacked.contains(m.getId())) {
        // Committed already; its acknowledgement is on its way again.
        continue;
      }
      deliveries.add(Delivery.of(s, m, 1));
    }
    round.add(s, deliveries);
    return true;
  }

  /**
   * Nothing arrived anywhere: a blocking read on every shard that has none out, then a wait until
   * one of them comes back (with entries, or empty after the block). A shard that must read its
   * own pending entries again gets none: the next round reads them.
   */
  private void awaitEntries() {
    List<CompletableFuture<?>> out = new ArrayList<>();
    for (Shard s : shards) {
      if (s.rereadOwnPending && s.blocking == null) {
        continue;
      }
      if (s.blocking == null) {
        s.blocking = s.connection.async().xreadgroup(Consumer.from(GROUP, consumer),
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
      running = false;
    } catch (ExecutionException | TimeoutException e) {
      // The next round collects it and sees the failure.
    }
  }

  /** Adds the shard's abandoned entries to the round when a claim is due; whether there were any. */
  private boolean claimIfDue(Shard s, Round round) {
    if (!s.claimDue(clock.millis())) {
      return false;
    }
    List<Delivery> claimed = claimAbandoned(s);
    round.add(s, claimed);
    return !claimed.isEmpty();
  }

  /** Entries pending longer than the claim timeout (a dead consumer's, or ones that failed here). */
  private List<Delivery> claimAbandoned(Shard s) {
    RedisCommands<String, byte[]> redis = s.connection.sync();
    ClaimedMessages<String, byte[]> claimed = redis.xautoclaim(s.stream,
        XAutoClaimArgs.Builder.xautoclaim(Consumer.from(GROUP, consumer), claimTimeout, "0-0").count(batchSize));
    List<StreamMessage<String, byte[]>> msgs = claimed.getMessages();
    if (msgs.isEmpty()) {
      return List.of();
    }
    // Delivery counts come from the pending list; XAUTOCLAIM has just counted this delivery.
    Map<String, Long> counts = new HashMap<>();
    List<PendingMessage> pending = redis.xpending(s.stream, Consumer.from(GROUP, consumer),
        Range.create(msgs.get(0).getId(), msgs.get(msgs.size() - 1).getId()), Limit.from(msgs.size() * 2L));
    for (PendingMessage p : pending) {
      counts.put(p.getId(), p.getRedeliveryCount());
    }
    List<Delivery> out = new ArrayList<>(msgs.size());
    for (StreamMessage<String, byte[]> m : msgs) {
      out.add(Delivery.of(s, m, counts.getOrDefault(m.getId(), 1L)));
    }
    log.info("persister {} claimed {} abandoned entries", s.stream, out.size());
    return out;
  }

  /** Commits one round; returns when it is committed or parked for redelivery. */
  private void commit(Round round) {
    List<Batch> batches = new ArrayList<>();
    for (Map.Entry<Shard, List<Delivery>> e : round.byShard.entrySet()) {
      Batch b = new Batch(e.getKey());
      for (Delivery d : e.getValue()) {
        if (d.payload == null) {
          b.shard.unacked.add(d.entryId);
          continue;
        }
        try {
          d.message = Message.parseFrom(d.payload);
          b.add(d);
        } catch (InvalidProtocolBufferException ex) {
          failed(d, "payload is not a Message: " + ex.getMessage());
        }
      }
      if (!b.deliveries.isEmpty()) {
        batches.add(b);
      }
    }
    if (batches.isEmpty()) {
      return;
    }
    List<Exception> refused;
    Duration backoff = RETRY_MIN;
    long start;
    while (true) {
      start = System.nanoTime();
      try {
        refused = groupCommit.commit(batches.stream().map(b -> b.rows).toList());
        break;
      } catch (Exception e) {
        // PostgreSQL unreachable: nothing counts against the entries; the round waits for it.
        if (!running && backoff.equals(RETRY_MAX)) {
          // Shutting down with PostgreSQL away: leave the entries pending for the next instance.
          return;
        }
        observer.commitFailed(e);
        pause(backoff);
        backoff = next(backoff);
      }
    }
    long nanos = System.nanoTime() - start;
    long committedAt = clock.millis();
    List<Message> committed = new ArrayList<>();
    List<String> awaited = new ArrayList<>();
    List<Batch> refusedBatches = new ArrayList<>();
    for (int i = 0; i < batches.size(); i++) {
      Batch b = batches.get(i);
      if (refused.get(i) == null) {
        b.deliveries.forEach(d -> b.shard.unacked.add(d.entryId));
        b.shard.acknowledgement.committed(b.messages);
        committed.addAll(b.messages);
        awaited.addAll(b.awaited());
      } else {
        refusedBatches.add(b);
      }
    }
    // Once per round: the thread-list caches and the other instances' waiters are one command each.
    if (!committed.isEmpty()) {
      observer.committed(committed, awaited, committedAt, nanos);
    }
    refusedBatches.forEach(this::commitOneByOne);
  }

  /** A batch PostgreSQL refused: find the entries it refuses, commit the rest. */
  private void commitOneByOne(Batch b) {
    for (Delivery d : b.deliveries) {
      try {
        long start = System.nanoTime();
        postgres.insert(List.of(d.message), Collections.singletonList(d.idempotencyKey));
        observer.committed(List.of(d.message), d.awaited ? List.of(d.message.getMessageId()) : List.of(),
            clock.millis(), System.nanoTime() - start);
        b.shard.unacked.add(d.entryId);
        b.shard.acknowledgement.committed(List.of(d.message));
      } catch (Exception e) {
        if (PostgresTier.isConnectivityFailure(e)) {
          // Not the entry's fault: the rest stay pending here and are read again.
          b.shard.rereadOwnPending();
          observer.commitFailed(e);
          return;
        }
        failed(d, e.getMessage());
      }
    }
  }

  private void failed(Delivery d, String error) {
    if (d.deliveries < maxDeliveries) {
      log.warn("persister {}: entry {} failed (delivery {} of {}): {}", d.shard.stream, d.entryId, d.deliveries,
          maxDeliveries, error);
      return;
    }
    try {
      String thread = d.message == null ? "" : d.message.getThreadId();
      String id = d.message == null ? "" : d.message.getMessageId();
      deadLetters.add(d.shard.stream, d.entryId, d.payload, thread, id, error, d.deliveries, d.idempotencyKey);
      d.shard.unacked.add(d.entryId);
      log.error("persister {}: entry {} dead-lettered after {} deliveries: {}", d.shard.stream, d.entryId,
          d.deliveries, error);
    } catch (Exception e) {
      log.warn("persister {}: cannot dead-letter {} yet: {}", d.shard.stream, d.entryId, e.toString());
    }
  }

  private void sendAcknowledgements() {
    for (Shard s : shards) {
      s.settleAcknowledgement();
      s.acknowledge();
    }
  }

  /**
   * After the loop: entries that blocking reads delivered meanwhile are this consumer's now, so
   * they are committed too (or left pending for the next instance), and acknowledgements are
   * waited for.
   */
  private void finish() {
    Round last = new Round();
    for (Shard s : shards) {
      if (s.blocking != null) {
        collect(s, s.blocking, Read.NEW, last);
        s.blocking = null;
      }
    }
    try {
      if (!last.isEmpty()) {
        commit(last);
      }
      sendAcknowledgements();
      for (Shard s : shards) {
        s.awaitAcknowledgement();
      }
    } catch (RuntimeException e) {
      log.warn("persister: acknowledgements left for the next instance: {}", e.toString());
    }
    for (Shard s : shards) {
      if (s.connection != null) {
        s.connection.close();
      }
    }
  }

  /**
   * Redis lost a stream, and with it the consumer group (restarted without its data, flushed):
   * the group is created again, or the shard's entries would never be read.
   */
  private static boolean streamLost(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      String message = String.valueOf(c.getMessage());
      if (message.startsWith("NOGROUP") || message.contains("stream key no longer exists")) {
        return true;
      }
    }
    return false;
  }

  private static Duration next(Duration d) {
    Duration n = d.multipliedBy(2);
    return n.compareTo(RETRY_MAX) > 0 ? RETRY_MAX : n;
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private enum Read { NEW, OWN_PENDING }

  /** One shard's stream and its reading and acknowledging state; used by the loop's thread only. */
  private final class Shard {
    final String stream;
    StatefulRedisConnection<String, byte[]> connection;
    boolean groupReady;
    /** After an error a read reply may have been lost: its entries are pending under this consumer. */
    boolean rereadOwnPending;
    String ownPendingCursor = "0";
    long nextClaimAt;
    /** The blocking read an idle round left out, until the round that collects it. */
    RedisFuture<List<StreamMessage<String, byte[]>>> blocking;
    /** Committed (or dead-lettered) entries whose XACK + XDEL has not been confirmed yet. */
    final Set<String> unacked = new LinkedHashSet<>();
    final Acknowledgement acknowledgement;
    private List<String> acking;
    private CompletableFuture<List<Object>> acked;

    Shard(String stream, Acknowledgement acknowledgement) {
      this.stream = stream;
      this.acknowledgement = acknowledgement;
    }

    boolean claimDue(long now) {
      if (now < nextClaimAt) {
        return false;
      }
      nextClaimAt = now + Math.max(100, claimTimeout.toMillis() / 2);
      return true;
    }

    /** From the start of the pending list: what was lost may lie before a scan under way. */
    void rereadOwnPending() {
      rereadOwnPending = true;
      ownPendingCursor = "0";
    }

    void readFailed(Exception e) {
      rereadOwnPending();
      if (streamLost(e)) {
        groupReady = false;
      }
      log.debug("persister {}: read failed: {}", stream, (e.getCause() == null ? e : e.getCause()).toString());
    }

    /**
     * Sends the acknowledgement of what is unacknowledged (with the trims of the indexes
     * committed since the last one), unless the last one is still out.
     */
    void acknowledge() {
      if (unacked.isEmpty() || acking != null || connection == null) {
        return;
      }
      acking = new ArrayList<>(unacked);
      acked = acknowledgement.send(connection.async(), stream, acking).toCompletableFuture();
    }

    /** Looks at the replies of the last acknowledgement, if they have come. */
    void settleAcknowledgement() {
      if (acking == null || !acked.isDone()) {
        return;
      }
      if (!acked.isCompletedExceptionally()) {
        // Committed but not acknowledged would be safe (the re-insert is skipped), just wasteful;
        // a failed one is sent again with the next.
        acking.forEach(unacked::remove);
      }
      acking = null;
    }

    void awaitAcknowledgement() {
      if (acking == null) {
        return;
      }
      try {
        acked.get(REPLY_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        log.debug("persister {}: acknowledgement not confirmed: {}", stream, e.toString());
      }
      settleAcknowledgement();
    }
  }

  /** What one round read, per shard in shard order. */
  private static final class Round {
    final Map<Shard, List<Delivery>> byShard = new LinkedHashMap<>();
    /** Entries came back from a blocking read: the loop was idle. */
    boolean woke;
    private int size;

    void add(Shard s, List<Delivery> deliveries) {
      byShard.computeIfAbsent(s, k -> new ArrayList<>()).addAll(deliveries);
      size += deliveries.size();
    }

    int count(Shard s) {
      List<Delivery> d = byShard.get(s);
      return d == null ? 0 : d.size();
    }

    int size() {
      return size;
    }

    boolean isEmpty() {
      return size == 0;
    }

    boolean awaited() {
      return byShard.values().stream().anyMatch(l -> l.stream().anyMatch(d -> d.awaited));
    }
  }

  /** One shard's parsed entries of a round. */
  private static final class Batch {
    final Shard shard;
    final List<Delivery> deliveries = new ArrayList<>();
    final List<Message> messages = new ArrayList<>();
    final List<Row> rows = new ArrayList<>();

    Batch(Shard shard) {
      this.shard = shard;
    }

    void add(Delivery d) {
      deliveries.add(d);
      messages.add(d.message);
      rows.add(new Row(d.message, d.idempotencyKey));
    }

    List<String> awaited() {
      List<String> ids = new ArrayList<>();
      for (Delivery d : deliveries) {
        if (d.awaited) {
          ids.add(d.message.getMessageId());
        }
      }
      return ids;
    }
  }

  /** One delivered stream entry. */
  private static final class Delivery {
    final Shard shard;
    final String entryId;
    final byte[] payload;
    final long deliveries;
    final String idempotencyKey;
    final boolean awaited;
    Message message;

    Delivery(Shard shard, String entryId, byte[] payload, long deliveries, boolean awaited, String idempotencyKey) {
      this.shard = shard;
      this.entryId = entryId;
      this.payload = payload;
      this.deliveries = deliveries;
      this.awaited = awaited;
      this.idempotencyKey = idempotencyKey;
    }

    /** A claimed entry deleted meanwhile comes back with no body: nothing to do but ack it. */
    static Delivery of(Shard shard, StreamMessage<String, byte[]> m, long deliveries) {
      Map<String, byte[]> body = m.getBody();
      if (body == null) {
        return new Delivery(shard, m.getId(), null, deliveries, false, null);
      }
      byte[] key = body.get(F_IDEMPOTENCY_KEY);
      return new Delivery(shard, m.getId(), body.get(DeadLetters.F_PAYLOAD), deliveries, body.containsKey(F_DURABLE),
          key == null ? null : new String(key, StandardCharsets.UTF_8));
    }
  }
}
