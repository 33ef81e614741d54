package io.messagestore.server.watch;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.messagestore.api.v1.WatchThreadRequest;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.clickhouse.ClickHouseMessageStore;
import io.messagestore.server.config.WatchSettings;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.events.ClusterEvents;
import io.messagestore.server.events.ThreadWrittenAroundRedis;
import io.messagestore.server.error.StoreError.TierUnavailable.Stored;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.read.ReadPath;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.write.MessageIdGenerator;
import io.messagestore.server.write.SendRequestValidator;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * WatchThread on this instance: starts each watch (checks, the caller's access, where it starts,
 * the thread's channel), keeps at most {@code MESSAGESTORE_MAX_WATCHERS} open, once a second
 * reports commits that no announcement reported and lets watches that wait for a retry read
 * again, and ends every watch with UNAVAILABLE when the gateway stops, so that callers resume on
 * another instance.
 */
public final class Watches implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Watches.class);
  /** How long a sent message may wait for its commit's announcement before storage is asked. */
  private static final long PERSISTED_CHECK_AFTER_MS = 2_000;
  /** Not in PostgreSQL that long after it was sent: maybe archived already (a short retention). */
  private static final long ARCHIVE_CHECK_AFTER_MS = 10_000;
  private static final int MAX_CHECKED_PER_SWEEP = 5_000;
  /**
   * Archive lookups are one ClickHouse query per id, and an id not yet committed (a slow
   * persister) would be asked about again every second: a few per sweep; the rest wait.
   */
  private static final int MAX_ARCHIVE_LOOKUPS_PER_SWEEP = 50;

  private final ReadPath reads;
  private final ThreadChannels channels;
  private final PostgresMessageStore postgres;
  private final ClickHouseMessageStore archive;
  private final WatchSettings settings;
  private final Executor blocking;
  private final Clock clock;
  private final WatchMetrics metrics;
  private final Set<ThreadWatch> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger admitted = new AtomicInteger();
  private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(
      new ThreadFactoryBuilder().setNameFormat("watch-sweep").setDaemon(true).build());
  private volatile boolean closing;

  public Watches(ReadPath reads, RedisTier redis, RedisKeys keys, PostgresMessageStore postgres,
      ClickHouseMessageStore archive, WatchSettings settings, Executor blocking, Clock clock, MeterRegistry meters) {
    this.reads = reads;
    this.channels = new ThreadChannels(redis, keys);
    this.postgres = postgres;
    this.archive = archive;
    this.settings = settings;
    this.blocking = blocking;
    this.clock = clock;
    this.metrics = new WatchMetrics(meters, open::size);
  }

  /** Watches of a thread written around Redis look at storage: nothing was announced. */
  public void subscribeTo(ClusterEvents events) {
    events.subscribe(ThreadWrittenAroundRedis.class, e -> channels.writtenAroundRedis(e.threadId()));
  }

  public void start() {
    sweeper.scheduleWithFixedDelay(this::sweep, 1, 1, TimeUnit.SECONDS);
  }

  /** Starts a watch; its errors and events go to {@code stream}. */
  public void watch(Caller caller, WatchThreadRequest request, WatchStream stream) {
    String threadId = request.getThreadId();
    SendRequestValidator.checkThreadId(threadId, "thread_id");
    String after = request.getAfterMessageId();
    if (!after.isEmpty()) {
      try {
        after = UUID.fromString(after).toString();
      } catch (IllegalArgumentException e) {
        throw new StoreError.Invalid("after_message_id must be a message id (a UUID) or empty, got '" + after + "'");
      }
    }
    if (closing) {
      throw shuttingDown();
    }
    if (admitted.incrementAndGet() > settings.maxWatchers()) {
      admitted.decrementAndGet();
      metrics.refused();
      throw new StoreError.Exhausted("this gateway instance already serves " + settings.maxWatchers()
          + " watches (MESSAGESTORE_MAX_WATCHERS); retry on another instance or later");
    }
    metrics.started(!after.isEmpty());
    String from = after;
    // The newest message tells whether the caller may read the thread (and whether it exists),
    // and, for a watch of what comes from now on, where now is.
    CompletableFuture<String> newestId;
    try {
      newestId = reads.newestId(caller, threadId);
    } catch (RuntimeException e) {
      admitted.decrementAndGet();
      throw e;
    }
    newestId.thenComposeAsync(newest -> {
          String position = from.isEmpty() ? newest : from;
          ThreadWatch[] self = new ThreadWatch[1];
          ThreadWatch w = new ThreadWatch(threadId, position, stream,
              (thread, afterId, n) -> reads.after(caller, thread, afterId, n),
              channels::connected, blocking, metrics, clock, () -> ended(self[0]));
          self[0] = w;
          stream.onCancel(w::cancelled);
          stream.onReady(w::pump);
          open.add(w);
          return channels.join(threadId, w).handle((v, e) -> {
            if (e != null) {
              w.abort(new StoreError.TierUnavailable("cannot subscribe to the thread's changes in Redis: "
                  + StoreError.describe(e), Stored.NOTHING, e));
            }
            return null;
          });
        }, blocking)
        .exceptionally(e -> {
          admitted.decrementAndGet();
          stream.fail(e instanceof RuntimeException r ? r : new CompletionException(e));
          return null;
        });
  }

  private void ended(ThreadWatch w) {
    if (w != null && open.remove(w)) {
      admitted.decrementAndGet();
      channels.leave(w.threadId(), w);
    }
  }

  /** Reports commits no announcement reported, and lets watches waiting for a retry read again. */
  private void sweep() {
    try {
      long now = clock.millis();
      List<ThreadWatch> watches = List.copyOf(open);
      List<List<String>> waiting = new ArrayList<>(watches.size());
      Set<String> all = new HashSet<>();
      for (ThreadWatch w : watches) {
        List<String> ids = all.size() < MAX_CHECKED_PER_SWEEP
            ? w.unpersistedSentBefore(now - PERSISTED_CHECK_AFTER_MS) : List.of();
        waiting.add(ids);
        all.addAll(ids);
      }
      Set<String> persisted = all.isEmpty() ? Set.of() : postgres.existing(all);
      int archiveLookups = 0;
      for (int i = 0; i < watches.size(); i++) {
        ThreadWatch w = watches.get(i);
        List<String> found = new ArrayList<>();
        List<String> archived = new ArrayList<>();
        for (String id : waiting.get(i)) {
          if (persisted.contains(id)) {
            found.add(id);
          } else if (sentBefore(id, now - ARCHIVE_CHECK_AFTER_MS) && archiveLookups++ < MAX_ARCHIVE_LOOKUPS_PER_SWEEP
              && archive.find(w.threadId(), id).isPresent()) {
            found.add(id);
            archived.add(id);
          }
        }
        if (found.isEmpty()) {
          w.pump();
        } else {
          w.foundPersisted(found, archived);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.debug("watch sweep failed, again in a second: {}", e.toString());
    }
  }

  private static boolean sentBefore(String id, long millis) {
    return MessageIdGenerator.millisOf(UUID.fromString(id)) < millis;
  }

  private static StoreError shuttingDown() {
    return new StoreError.TierUnavailable("this gateway is shutting down; watch again (on another instance) with "
        + "after_message_id = the last message id received", Stored.NOTHING);
  }

  /** Ends every watch with UNAVAILABLE: the gateway is stopping. */
  @Override
  public void close() {
    closing = true;
    sweeper.shutdownNow();
    for (ThreadWatch w : List.copyOf(open)) {
      w.abort(shuttingDown());
    }
    channels.close();
  }
}
