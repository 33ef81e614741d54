package io.messagestore.server.redis;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.TrackingArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.push.PushMessage;
import io.lettuce.core.codec.StringCodec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A copy of hot Redis values in the gateway's heap, kept coherent by Redis itself
 * (server-assisted client-side caching, {@code CLIENT TRACKING}).
 *
 * <p>Values are read through connections of their own, one per event loop, with tracking on:
 * Redis remembers every key read on them and pushes an invalidation on that connection when the
 * key is changed, deleted, expires or is evicted (and a flush-everything on FLUSHALL/FLUSHDB).
 * A copy is dropped when its invalidation arrives, and all copies are dropped when a tracking
 * connection is lost, since invalidations may have been lost with it. A hit therefore answers
 * what Redis holds, one network delay behind at most; the messages cached here never change
 * once written, so that delay can only make a hit outlive its key by moments. Deleting a
 * message must delete its Redis key: that is what reaches the copies of every gateway.
 *
 * <p>Only {@link #mget} fills the cache, and only reads of values by key go through it (thread
 * owners, and message bodies for GetMessage and for pages): keys that change on every write,
 * such as a thread's recent index, are never read on a tracking connection, so writes cause no
 * invalidations.
 *
 * <p>With a size of zero the cache is off: {@link #get} always misses and {@link #mget} reads
 * through the request path.
 */
public final class NearCache {
  private static final Logger log = LoggerFactory.getLogger(NearCache.class);
  /** Per entry beyond key and value: Caffeine's node, the key's String and the array header. */
  private static final int ENTRY_OVERHEAD_BYTES = 96;

  private final RedisTier redis;
  private final Cache<String, byte[]> values;
  private final LoopConnections tracked;
  /** Tracking connections whose CLIENT TRACKING was acknowledged and which are still connected. */
  private final Set<Object> tracking = ConcurrentHashMap.newKeySet();
  /**
   * Counts invalidations and clears. A read whose reply might be older than an invalidation
   * processed meanwhile (it was counted after the read was sent) does not fill the cache.
   */
  private final AtomicLong invalidations = new AtomicLong();
  /**
   * When a read last went through the request path because its tracking connection was not
   * open: the request path needs a barrier too until every such read has been answered.
   */
  private volatile long lastFallbackNanos = System.nanoTime() - TimeUnit.HOURS.toNanos(1);
  private final Counter invalidatedKeys;
  private final Counter clears;

  /**
   * @param maxBytes what the copies may occupy (keys, values and bookkeeping); 0 turns the
   *     cache off
   * @param maxAge how long a copy may live at most (the message TTL: Redis expires the key by
   *     then anyway)
   */
  public NearCache(RedisTier redis, long maxBytes, Duration maxAge, MeterRegistry meters) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("near cache size must be >= 0 bytes, got " + maxBytes);
    }
    this.redis = redis;
    this.invalidatedKeys = Counter.builder("messagestore.redis.near.cache.invalidations")
        .description("keys Redis told this gateway to drop from its near cache").register(meters);
    this.clears = Counter.builder("messagestore.redis.near.cache.clears")
        .description("times the whole near cache was dropped (tracking connection lost, Redis flushed)")
        .register(meters);
    if (maxBytes == 0) {
      this.values = null;
      this.tracked = null;
      return;
    }
    this.values = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((String k, byte[] v) -> 2 * k.length() + v.length + ENTRY_OVERHEAD_BYTES)
        .expireAfterWrite(maxAge)
        // Maintenance on the calling thread: no hop to the common pool on a hot read.
        .executor(Runnable::run)
        .recordStats()
        .build();
    CaffeineCacheMetrics.monitor(meters, values, "redis_near_cache");
    Gauge.builder("messagestore.redis.near.cache.bytes", values,
            c -> c.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L))
        .description("what the near cache's copies occupy (estimated)").baseUnit("bytes").register(meters);
    this.tracked = redis.loopConnections("near-cache", this::startTracking);
    redis.onDisconnected(this::lost);
  }

  /** Opens the tracking connections in the background, so the first reads need not wait. */
  public void start() {
    if (tracked != null) {
      tracked.connectAll();
    }
  }

  /** The cached copy of {@code key}, or null. */
  public byte[] get(String key) {
    return values == null ? null : values.getIfPresent(key);
  }

  /**
   * MGET through a tracking connection; the values found are kept (until Redis invalidates
   * them).
   */
  public CompletionStage<List<KeyValue<String, byte[]>>> mget(String... keys) {
    if (values == null) {
      return redis.async().mget(keys);
    }
    StatefulRedisConnection<String, byte[]> c;
    try {
      c = tracked.current();
    } catch (RedisConnectionException e) {
      // Still (re)connecting: the read need not wait for a copy to be possible.
      lastFallbackNanos = System.nanoTime();
      return redis.async().mget(keys);
    }
    long before = invalidations.get();
    return c.async().mget(keys).thenApply(found -> {
      if (!tracking.contains(c) || invalidations.get() != before) {
        return found;
      }
      for (KeyValue<String, byte[]> kv : found) {
        if (kv.hasValue()) {
          values.put(kv.getKey(), kv.getValue());
        }
      }
      // An invalidation may have been counted between the check and the puts, on the
      // connection's event loop while this runs elsewhere: undo rather than keep a stale copy.
      if (invalidations.get() != before || !tracking.contains(c)) {
        found.forEach(kv -> values.invalidate(kv.getKey()));
      }
      return found;
    });
  }

  /**
   * Completes once every read sent through this cache before this call has been answered, and
   * every invalidation Redis sent for commands it ran before it has been applied: a PING on each
   * tracking connection, whose reply comes after both; on the request path too while reads may
   * still be on their way there (the cache is off, or a read fell back to it less than twice the
   * command timeout ago: an older one has been answered or has timed out).
   */
  public CompletableFuture<Void> barrier() {
    if (tracked == null) {
      return redis.requestPathBarrier();
    }
    CompletableFuture<Void> tracking = RedisTier.barrier(tracked);
    if (System.nanoTime() - lastFallbackNanos < 2 * redis.commandTimeout().toNanos()) {
      return tracking.thenCombine(redis.requestPathBarrier(), (a, b) -> b);
    }
    return tracking;
  }

  private CompletionStage<?> startTracking(StatefulRedisConnection<String, byte[]> c) {
    c.addListener(this::onPush);
    return c.async().clientTracking(TrackingArgs.Builder.enabled()).handle((ok, e) -> {
      if (e == null) {
        tracking.add(c);
      } else {
        // RESP2 server or tracking refused: the connection still reads, nothing is kept.
        log.warn("redis at {} refused CLIENT TRACKING ({}): the near cache stays empty", redis.address(),
            e.getMessage());
      }
      return ok;
    });
  }

  private void onPush(PushMessage push) {
    if (!"invalidate".equals(push.getType())) {
      return;
    }
    invalidations.incrementAndGet();
    List<Object> content = push.getContent(StringCodec.UTF8::decodeKey);
    if (content.size() > 1 && content.get(1) instanceof List<?> keys) {
      for (Object key : keys) {
        if (key instanceof String k) {
          values.invalidate(k);
        } else {
          clear(); // not a key as this class knows them: drop everything rather than guess
          return;
        }
      }
      invalidatedKeys.increment(keys.size());
    } else {
      // A null key list: the server was flushed.
      clear();
    }
  }

  private void lost(RedisChannelHandler<?, ?> connection) {
    if (tracking.remove(connection)) {
      clear();
      // Tracking does not survive a reconnect: this connection is done, the next read opens a
      // tracking one.
      connection.closeAsync();
    }
  }

  private void clear() {
    invalidations.incrementAndGet();
    values.invalidateAll();
    clears.increment();
  }
}
