package io.messagestore.server.consistency;

import io.lettuce.core.SetArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.messagestore.api.v1.Message;
import io.messagestore.server.config.RedisDataSettings;
import io.messagestore.server.events.ClusterEvents;
import io.messagestore.server.events.ThreadWrittenAroundRedis;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.QueryCancellation;
import io.messagestore.server.postgres.RedisRepairRows;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RecentIndex;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.redis.ThreadListCache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings Redis up to date with the messages written to PostgreSQL while Redis could not take
 * them (write failover).
 *
 * <p>Redis never sees a failover write, so once Redis answers again a thread's recent index lacks
 * messages that lie inside it, and a page served from the index alone would silently skip them;
 * the idempotency keys of those writes and the owner's cached thread list are missing or stale
 * too. The failover write marks its thread in PostgreSQL ({@code redis_repairs}, in the statement
 * that stores the messages). Every instance polls the marks, and once Redis answers it adds the
 * thread's messages above the index's lowest id to the index (with their bodies), sets the
 * idempotency keys that are still within their time to live, drops the cached thread list, and
 * clears the mark unless a newer failover write raised it again.
 *
 * <p>Until then {@link #recentIndexComplete} is false for the thread: at once in the instance
 * that made the failover write, and in other instances as soon as PostgreSQL's notification of
 * the mark reaches them ({@link #markedInPostgres}), or else from their next poll. The read path
 * then merges its pages with PostgreSQL, which is slower but complete.
 */
public final class FailoverRepair implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FailoverRepair.class);
  /** Threads taken from PostgreSQL per round; a full round is followed by the next at once. */
  static final int THREADS_PER_ROUND = 100;
  /** Messages read from PostgreSQL at a time while repairing one thread. */
  private static final int PAGE = 200;
  /** Bodies handed to one script call; a page of large messages is split. */
  private static final int SCRIPT_BYTES = 1 << 20;
  private static final Duration REDIS_WAIT = Duration.ofSeconds(5);

  private final RedisTier redis;
  private final RedisKeys keys;
  private final RecentIndex recentIndex;
  private final PostgresMessageStore messages;
  private final RedisRepairRows marks;
  private final Clock clock;
  private final Duration idempotencyTtl;
  private final Duration pollInterval;
  /**
   * Threads whose pages must not come from Redis alone, each with a token that a new failover
   * write replaces, so a repair that started before that write cannot release the thread.
   */
  private final Map<String, Object> awaiting = new ConcurrentHashMap<>();
  /** Counts the threads that started to await a repair: see {@link #epoch}. */
  private final AtomicLong awaited = new AtomicLong();
  private final Counter repaired;
  private final ClusterEvents events;
  private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "redis-repair");
    t.setDaemon(true);
    return t;
  });

  public FailoverRepair(RedisTier redis, RedisKeys keys, RecentIndex recentIndex, PostgresMessageStore messages,
      RedisRepairRows marks, Clock clock, RedisDataSettings settings, ClusterEvents events, MeterRegistry meters) {
    this.redis = redis;
    this.events = events;
    this.keys = keys;
    this.recentIndex = recentIndex;
    this.messages = messages;
    this.marks = marks;
    this.clock = clock;
    this.idempotencyTtl = settings.idempotencyTtl();
    this.pollInterval = settings.repairInterval();
    repaired = Counter.builder("messagestore.redis.repaired.threads")
        .description("threads whose failover writes were added to Redis once it answered again").register(meters);
    Gauge.builder("messagestore.redis.repair.awaiting.threads", awaiting, Map::size)
        .description("threads written during a Redis outage whose Redis state is not repaired yet; "
            + "their pages are read through PostgreSQL")
        .register(meters);
  }

  public void start() {
    worker.scheduleWithFixedDelay(this::round, 0, pollInterval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A failover write stored new messages of the thread in PostgreSQL only (and marked it there). */
  public void wroteAroundRedis(String threadId) {
    awaiting.put(threadId, new Object());
    awaited.incrementAndGet();
    events.publish(new ThreadWrittenAroundRedis(threadId));
  }

  /**
   * A thread was marked in PostgreSQL, by this instance or another one (a notification): its
   * pages must not come from Redis alone from now on, not only from the next poll.
   */
  public void markedInPostgres(String threadId) {
    await(threadId);
    events.publish(new ThreadWrittenAroundRedis(threadId));
  }

  private void await(String threadId) {
    if (awaiting.putIfAbsent(threadId, new Object()) == null) {
      awaited.incrementAndGet();
      events.publish(new ThreadWrittenAroundRedis(threadId));
    }
  }

  /** Looks at the marks now rather than at the next poll (notifications may have been missed). */
  public void pollNow() {
    runSoon();
  }

  /** Redis takes writes again: repair now rather than at the next poll. */
  public void redisIsBack() {
    runSoon();
  }

  private void runSoon() {
    try {
      worker.execute(this::round);
    } catch (RejectedExecutionException e) {
      // Shutting down: nothing left to repair for.
    }
  }

  /**
   * Repairs one thread now, on the calling thread. A send with an idempotency key calls this
   * before its script runs: a retry of a send that failed over must find the key in Redis, or it
   * would be stored a second time.
   *
   * @throws Exception when PostgreSQL or Redis fails; the thread stays marked for the poll
   */
  public void repairNow(String threadId) throws Exception {
    Object token = awaiting.get(threadId);
    Optional<RedisRepairRows.Marked> mark = marks.find(threadId);
    if (mark.isPresent()) {
      repairAndRelease(mark.get(), token);
    } else if (token != null) {
      // Already repaired by another instance: the mark is gone.
      awaiting.remove(threadId, token);
    }
  }

  /** False while the thread has failover writes that its Redis recent index may lack. */
  public boolean recentIndexComplete(String threadId) {
    return awaiting.isEmpty() || !awaiting.containsKey(threadId);
  }

  /**
   * Moves whenever a thread starts to await its repair. Something derived from a recent index
   * while the epoch was the same as now lacks no failover write: a thread written around Redis
   * since then moved it, and stays {@linkplain #recentIndexComplete incomplete} until its
   * repair, after which the index has the writes. Whatever was derived before is stale then,
   * even once the repair is done: the repair's change of the index may reach a copy of it later
   * than the release.
   */
  public long epoch() {
    return awaited.get();
  }

  /** Threads known to wait for their repair (GetTierStatus). */
  public long threadsAwaitingRepair() {
    return awaiting.size();
  }

  /** One poll of the marks and repair of what they name; a tier that fails ends the round. */
  void round() {
    Map<String, Object> knownBefore = new HashMap<>(awaiting);
    List<RedisRepairRows.Marked> marked;
    try {
      marked = marks.oldest(THREADS_PER_ROUND);
    } catch (Exception e) {
      log.debug("redis repair: cannot read the marks from postgres: {}", e.toString());
      return;
    }
    Set<String> markedThreads = new HashSet<>();
    for (RedisRepairRows.Marked m : marked) {
      markedThreads.add(m.threadId());
      // Written around Redis by another instance: this one must not trust the index either.
      await(m.threadId());
    }
    if (marked.size() < THREADS_PER_ROUND) {
      // Every mark was listed, so a thread known here but not marked any more was repaired by
      // another instance (a failover write marks before it is known here).
      knownBefore.forEach((thread, token) -> {
        if (!markedThreads.contains(thread)) {
          awaiting.remove(thread, token);
        }
      });
    }
    int done = 0;
    try {
      for (RedisRepairRows.Marked m : marked) {
        long added = repairAndRelease(m, awaiting.get(m.threadId()));
        done++;
        log.debug("redis repair: thread {}, {} ids added to its recent index", m.threadId(), added);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.debug("redis repair postponed after {} of {} threads: {}", done, marked.size(), e.toString());
    }
    if (done > 0) {
      log.info("redis repair: {} threads written during a Redis outage are complete in Redis again", done);
    }
    if (done == THREADS_PER_ROUND) {
      // A long outage can leave many threads: go on at once rather than 100 per poll.
      runSoon();
    }
  }

  /**
   * Repairs the thread and clears its mark; the thread stops awaiting its repair unless a newer
   * failover write replaced {@code token} or raised the mark meanwhile. Returns how many ids
   * went into the recent index.
   */
  private long repairAndRelease(RedisRepairRows.Marked m, Object token) throws Exception {
    long added = repair(m);
    if (marks.clear(m) && token != null) {
      awaiting.remove(m.threadId(), token);
    }
    repaired.increment();
    return added;
  }

  /** Returns how many ids went into the recent index. */
  private long repair(RedisRepairRows.Marked m) throws Exception {
    String threadId = m.threadId();
    RedisKeys.ThreadKeys tk = keys.of(threadId);
    RedisAsyncCommands<String, byte[]> cmd = redis.async();
    Optional<RecentIndex.Lowest> lowest = await(recentIndex.lowest(cmd, threadId));
    long added = 0;
    if (lowest.isPresent()) {
      // Null when the index holds the whole thread: then it must hold every message.
      String after = lowest.get().after();
      List<Message> page;
      do {
        page = messages.pageWithArchiveCount(threadId, after, null, PAGE, false, QueryCancellation.NONE).messages();
        added += addToIndex(cmd, threadId, page);
        after = page.isEmpty() ? after : page.get(page.size() - 1).getMessageId();
      } while (page.size() == PAGE);
    }
    Instant now = clock.instant();
    for (PostgresMessageStore.IdempotencyKey k : messages.idempotencyKeysSince(threadId, now.minus(idempotencyTtl))) {
      long left = idempotencyTtl.minus(Duration.between(k.createdAt(), now)).toMillis();
      if (left > 0) {
        await(cmd.set(tk.idempotency(k.key()), k.messageId().getBytes(StandardCharsets.US_ASCII),
            SetArgs.Builder.nx().px(left)));
      }
    }
    // Counts and activity changed without the persisters, which are what drop this cache.
    await(ThreadListCache.forget(cmd, keys, List.of(m.userId())));
    return added;
  }

  /** Into the index in script calls of about {@link #SCRIPT_BYTES}: a page of large messages is split. */
  private long addToIndex(RedisAsyncCommands<String, byte[]> cmd, String threadId, List<Message> page)
      throws Exception {
    long added = 0;
    int from = 0;
    int bytes = 0;
    for (int i = 0; i < page.size(); i++) {
      bytes += page.get(i).getSerializedSize();
      if (bytes >= SCRIPT_BYTES || i == page.size() - 1) {
        added += await(recentIndex.addAboveLowest(cmd, threadId, page.subList(from, i + 1)));
        from = i + 1;
        bytes = 0;
      }
    }
    return added;
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(REDIS_WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
