package io.messagestore.server.persistence;

import com.google.protobuf.InvalidProtocolBufferException;
import io.lettuce.core.Consumer;
import io.lettuce.core.Limit;
import io.lettuce.core.models.stream.PendingMessage;
import io.lettuce.core.Range;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.models.stream.ClaimedMessages;
import io.messagestore.api.v1.Message;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.PostgresTier;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves one shard's persistence stream into PostgreSQL.
 *
 * <p>Reads batches through the consumer group, commits each in one statement (together with other
 * shards' batches handed in meanwhile, see {@link GroupCommit}), then XACKs and XDELs the entries
 * (so a stream's length is its backlog). While batch N commits, batch N+1 is
 * read: the commit is the slow part and the next batch grows while it runs, which is the group
 * commit for durable sends. Commits of one shard run one at a time, in stream order, which
 * keeps a thread's order.
 *
 * <p>Failure handling: PostgreSQL unreachable - the same batch is retried until it commits (the
 * entries stay pending under this consumer, so nothing counts against them). A batch refused for
 * its data - entries are retried one by one, the good ones commit, a bad one stays pending and
 * comes back through XAUTOCLAIM until it has been delivered {@code maxDeliveries} times, then
 * goes to the dead-letter stream. Entries left pending by a dead gateway are claimed after
 * {@code claimTimeout}.
 */
final class StreamPersister implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(StreamPersister.class);
  static final String GROUP = "persisters";
  /** Stream entry field set on entries of durable sends (see send.lua). */
  static final String F_DURABLE = "d";
  /** Stream entry field holding the message's idempotency key, when it has one (see send.lua). */
  static final String F_IDEMPOTENCY_KEY = "k";
  private static final Duration READ_BLOCK = Duration.ofMillis(200);
  private static final Duration RETRY_MIN = Duration.ofMillis(50);
  private static final Duration RETRY_MAX = Duration.ofSeconds(1);

  /** What a commit writes for one entry. */
  record Row(Message message, String idempotencyKey) {}

  private final String stream;
  private final String consumer;
  private final Supplier<StatefulRedisConnection<String, byte[]>> connect;
  private StatefulRedisConnection<String, byte[]> connection;
  private final PostgresTier postgresTier;
  private final PostgresMessageStore postgres;
  private final GroupCommit<Row> groupCommit;
  private final DeadLetters deadLetters;
  private final PersistenceObserver observer;
  private final ExecutorService commitExecutor;
  private final Clock clock;
  private final int batchSize;
  private final Duration linger;
  private final Duration claimTimeout;
  private final int maxDeliveries;
  private volatile boolean running = true;
  private long nextClaimAt;
  private boolean groupReady;
  /** After an error a read reply may have been lost: its entries are pending under this consumer. */
  private boolean rereadOwnPending;
  private String ownPendingCursor = "0";

  StreamPersister(String stream, String consumer, Supplier<StatefulRedisConnection<String, byte[]>> connect,
      PostgresTier postgresTier, PostgresMessageStore postgres, GroupCommit<Row> groupCommit, DeadLetters deadLetters,
      PersistenceObserver observer,
      ExecutorService commitExecutor, Clock clock, int batchSize, Duration linger, Duration claimTimeout,
      int maxDeliveries) {
    this.stream = stream;
    this.consumer = consumer;
    this.connect = connect;
    this.postgresTier = postgresTier;
    this.postgres = postgres;
    this.groupCommit = groupCommit;
    this.deadLetters = deadLetters;
    this.observer = observer;
    this.commitExecutor = commitExecutor;
    this.clock = clock;
    this.batchSize = batchSize;
    this.linger = linger;
    this.claimTimeout = claimTimeout;
    this.maxDeliveries = maxDeliveries;
  }

  /** Stops reading; the batch being committed finishes and is acknowledged. */
  void stop() {
    running = false;
  }

  @Override
  public void run() {
    CompletableFuture<Void> inFlight = CompletableFuture.completedFuture(null);
    Duration backoff = RETRY_MIN;
    while (running) {
      try {
        if (!postgresTier.schemaReady()) {
          // Nothing can commit before the schema exists; the health monitor creates it.
          pause(backoff);
          backoff = next(backoff);
          continue;
        }
        if (connection == null) {
          // Opened here, not at start-up, so a gateway started while Redis is down still starts.
          connection = connect.get();
        }
        RedisCommands<String, byte[]> redis = connection.sync();
        ensureGroup(redis);
        if (rereadOwnPending) {
          // Let the batch in flight settle first, or its entries would be read back as pending.
          joinQuietly(inFlight);
        }
        List<Delivery> batch = claimAbandoned(redis);
        if (batch.isEmpty() && rereadOwnPending) {
          batch = readOwnPending(redis);
        }
        if (batch.isEmpty()) {
          batch = readNew(redis, inFlight);
        } else {
          joinQuietly(inFlight);
        }
        backoff = RETRY_MIN;
        if (!batch.isEmpty()) {
          List<Delivery> toCommit = batch;
          inFlight = CompletableFuture.runAsync(() -> commit(toCommit), commitExecutor);
        }
      } catch (RuntimeException e) {
        rereadOwnPending = true;
        if (running) {
          log.debug("persister {} waiting for redis: {}", stream, e.toString());
          pause(backoff);
          backoff = next(backoff);
        }
      }
    }
    inFlight.join();
    if (connection != null) {
      connection.close();
    }
  }

  private void joinQuietly(CompletableFuture<Void> inFlight) {
    try {
      inFlight.join();
    } catch (RuntimeException e) {
      log.error("persister {}: commit failed unexpectedly; its entries will be re-read", stream, e);
      rereadOwnPending = true;
    }
  }

  private void ensureGroup(RedisCommands<String, byte[]> redis) {
    if (groupReady) {
      return;
    }
    try {
      // From "0": entries written before any persister ever ran are persisted too.
      redis.xgroupCreate(XReadArgs.StreamOffset.from(stream, "0"), GROUP, XGroupCreateArgs.Builder.mkstream());
    } catch (RedisBusyException e) {
      // BUSYGROUP: another instance (or an earlier run) created it.
    }
    groupReady = true;
  }

  /**
   * The next batch, read around the commit in flight: what has arrived is read while that
   * commit runs (the overlap), and once it is done the batch is topped up with what arrived
   * meanwhile. Under load a batch is therefore everything that came in during one commit,
   * which is what makes it a group commit; when idle, a short batch waits the linger for
   * company, unless a durable send waits for one of its entries. Returns only after
   * {@code inFlight} is done, so commits stay in stream order.
   */
  private List<Delivery> readNew(RedisCommands<String, byte[]> redis, CompletableFuture<Void> inFlight) {
    List<Delivery> batch = new ArrayList<>();
    if (!inFlight.isDone()) {
      read(redis, batchSize, null, batch);
    }
    joinQuietly(inFlight);
    if (batch.size() < batchSize) {
      read(redis, batchSize - batch.size(), null, batch);
    }
    if (batch.isEmpty()) {
      read(redis, batchSize, READ_BLOCK, batch);
      // Lingering trades latency nobody sees for fewer commits; a durable send sees all of it.
      boolean someoneWaits = batch.stream().anyMatch(d -> d.awaited);
      if (!batch.isEmpty() && batch.size() < batchSize && !linger.isZero() && !someoneWaits) {
        pause(linger);
        read(redis, batchSize - batch.size(), null, batch);
      }
    }
    return batch;
  }

  private void read(RedisCommands<String, byte[]> redis, int count, Duration block, List<Delivery> into) {
    XReadArgs args = XReadArgs.Builder.count(count);
    if (block != null) {
      args.block(block);
    }
    List<StreamMessage<String, byte[]>> got = redis.xreadgroup(Consumer.from(GROUP, consumer), args,
        XReadArgs.StreamOffset.lastConsumed(stream));
    if (got != null) {
      for (StreamMessage<String, byte[]> m : got) {
        into.add(Delivery.of(m, 1));
      }
    }
  }

  /**
   * Entries delivered to this consumer but never acknowledged (ID 0 instead of {@code >}); once
   * none are left, reading goes back to new entries.
   */
  private List<Delivery> readOwnPending(RedisCommands<String, byte[]> redis) {
    List<StreamMessage<String, byte[]>> got = redis.xreadgroup(Consumer.from(GROUP, consumer),
        XReadArgs.Builder.count(batchSize), XReadArgs.StreamOffset.from(stream, ownPendingCursor));
    if (got == null || got.isEmpty()) {
      // Entries that failed here before stay pending and come back through XAUTOCLAIM.
      rereadOwnPending = false;
      ownPendingCursor = "0";
      return List.of();
    }
    ownPendingCursor = got.get(got.size() - 1).getId();
    List<Delivery> out = new ArrayList<>(got.size());
    for (StreamMessage<String, byte[]> m : got) {
      out.add(Delivery.of(m, 1));
    }
    return out;
  }

  /** Entries pending longer than the claim timeout (a dead consumer's, or ones that failed here). */
  private List<Delivery> claimAbandoned(RedisCommands<String, byte[]> redis) {
    long now = clock.millis();
    if (now < nextClaimAt) {
      return List.of();
    }
    nextClaimAt = now + Math.max(100, claimTimeout.toMillis() / 2);
    ClaimedMessages<String, byte[]> claimed = redis.xautoclaim(stream,
        XAutoClaimArgs.Builder.xautoclaim(Consumer.from(GROUP, consumer), claimTimeout, "0-0").count(batchSize));
    List<StreamMessage<String, byte[]>> msgs = claimed.getMessages();
    if (msgs.isEmpty()) {
      return List.of();
    }
    // Delivery counts come from the pending list; XAUTOCLAIM has just counted this delivery.
    Map<String, Long> counts = new HashMap<>();
    List<PendingMessage> pending = redis.xpending(stream, Consumer.from(GROUP, consumer),
        Range.create(msgs.get(0).getId(), msgs.get(msgs.size() - 1).getId()), Limit.from(msgs.size() * 2L));
    for (PendingMessage p : pending) {
      counts.put(p.getId(), p.getRedeliveryCount());
    }
    List<Delivery> out = new ArrayList<>(msgs.size());
    for (StreamMessage<String, byte[]> m : msgs) {
      out.add(Delivery.of(m, counts.getOrDefault(m.getId(), 1L)));
    }
    log.info("persister {} claimed {} abandoned entries", stream, out.size());
    return out;
  }

  /** Commits one batch; returns only when it is committed or parked for redelivery. */
  private void commit(List<Delivery> batch) {
    List<Delivery> parsed = new ArrayList<>(batch.size());
    List<Message> messages = new ArrayList<>(batch.size());
    List<Row> rows = new ArrayList<>(batch.size());
    List<String> done = new ArrayList<>();
    for (Delivery d : batch) {
      if (d.payload == null) {
        done.add(d.entryId);
        continue;
      }
      try {
        d.message = Message.parseFrom(d.payload);
        parsed.add(d);
        messages.add(d.message);
        rows.add(new Row(d.message, d.idempotencyKey));
      } catch (InvalidProtocolBufferException e) {
        failed(d, "payload is not a Message: " + e.getMessage());
      }
    }
    Duration backoff = RETRY_MIN;
    while (!messages.isEmpty()) {
      long start = System.nanoTime();
      try {
        groupCommit.commit(rows);
        long committedAt = clock.millis();
        List<String> awaited = new ArrayList<>();
        for (Delivery d : parsed) {
          done.add(d.entryId);
          if (d.awaited) {
            awaited.add(d.message.getMessageId());
          }
        }
        observer.committed(messages, awaited, committedAt, System.nanoTime() - start);
        break;
      } catch (Exception e) {
        if (PostgresTier.isConnectivityFailure(e)) {
          if (!running && backoff.equals(RETRY_MAX)) {
            // Shutting down with PostgreSQL away: leave the entries pending for the next instance.
            return;
          }
          observer.commitFailed(e);
          pause(backoff);
          backoff = next(backoff);
          continue;
        }
        // The data was refused: find which entries, commit the rest.
        commitOneByOne(parsed, done);
        break;
      }
    }
    acknowledge(done);
  }

  private void commitOneByOne(List<Delivery> parsed, List<String> done) {
    for (Delivery d : parsed) {
      try {
        long start = System.nanoTime();
        postgres.insert(List.of(d.message), Collections.singletonList(d.idempotencyKey));
        observer.committed(List.of(d.message), d.awaited ? List.of(d.message.getMessageId()) : List.of(),
            clock.millis(), System.nanoTime() - start);
        done.add(d.entryId);
      } catch (Exception e) {
        failed(d, e.getMessage());
        if (d.deadLettered) {
          done.add(d.entryId);
        }
      }
    }
  }

  private void failed(Delivery d, String error) {
    if (d.deliveries < maxDeliveries) {
      log.warn("persister {}: entry {} failed (delivery {} of {}): {}", stream, d.entryId, d.deliveries,
          maxDeliveries, error);
      return;
    }
    try {
      String thread = d.message == null ? "" : d.message.getThreadId();
      String id = d.message == null ? "" : d.message.getMessageId();
      deadLetters.add(stream, d.entryId, d.payload, thread, id, error, d.deliveries, d.idempotencyKey);
      d.deadLettered = true;
      log.error("persister {}: entry {} dead-lettered after {} deliveries: {}", stream, d.entryId, d.deliveries, error);
      if (d.message == null) {
        // Acknowledge it right here: unparseable entries never reach the ack list otherwise.
        acknowledge(List.of(d.entryId));
      }
    } catch (Exception e) {
      log.warn("persister {}: cannot dead-letter {} yet: {}", stream, d.entryId, e.toString());
    }
  }

  private void acknowledge(List<String> entryIds) {
    if (entryIds.isEmpty()) {
      return;
    }
    String[] ids = entryIds.toArray(new String[0]);
    Duration backoff = RETRY_MIN;
    while (true) {
      try {
        // Both in one round trip; the entry is deleted so a stream's length stays its backlog.
        var redis = connection.async();
        var acked = redis.xack(stream, GROUP, ids);
        var deleted = redis.xdel(stream, ids);
        acked.get(5, java.util.concurrent.TimeUnit.SECONDS);
        deleted.get(5, java.util.concurrent.TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
          return;
        }
        // Committed but not acknowledged is safe (the re-insert is skipped), just wasteful; keep
        // trying while Redis is away so the backlog gauge stays true.
        if (!running) {
          return;
        }
        pause(backoff);
        backoff = next(backoff);
      }
    }
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

  /** One delivered stream entry. */
  private static final class Delivery {
    final String entryId;
    final byte[] payload;
    final long deliveries;
    final String idempotencyKey;
    Message message;
    boolean deadLettered;

    final boolean awaited;

    Delivery(String entryId, byte[] payload, long deliveries, boolean awaited, String idempotencyKey) {
      this.entryId = entryId;
      this.payload = payload;
      this.deliveries = deliveries;
      this.awaited = awaited;
      this.idempotencyKey = idempotencyKey;
    }

    /** A claimed entry deleted meanwhile comes back with no body: nothing to do but ack it. */
    static Delivery of(StreamMessage<String, byte[]> m, long deliveries) {
      Map<String, byte[]> body = m.getBody();
      if (body == null) {
        return new Delivery(m.getId(), null, deliveries, false, null);
      }
      byte[] key = body.get(F_IDEMPOTENCY_KEY);
      return new Delivery(m.getId(), body.get(DeadLetters.F_PAYLOAD), deliveries, body.containsKey(F_DURABLE),
          key == null ? null : new String(key, StandardCharsets.UTF_8));
    }
  }
}
