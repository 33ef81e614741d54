package io.messagestore.server.redis;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.TrackingArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.push.PushMessage;
import io.lettuce.core.codec.StringCodec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
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
 * what Redis holds, one network delay behind at most: message bodies and owners never change
 * once written, so for them that delay can only make a hit outlive its key by moments; a view
 * (below) can miss a change made through another gateway for that long. Deleting a message must
 * delete its Redis key: that is what reaches the copies of every gateway.
 *
 * <p>Two kinds of copies are kept. {@link #mget} copies string values (thread owners, message
 * bodies). {@link #keepView} keeps a view derived from reading a key on a tracking connection
 * ({@link #track}), such as the first page of a thread built from its recent index, until that
 * key changes. A key that changes on every write is read on a tracking connection only for such
 * a view, so a write causes at most one invalidation per gateway that read the key since the
 * write before. A change made through this gateway drops its copies at once ({@link
 * #invalidate}), without waiting for Redis's push, so that whoever this gateway answered sees
 * the change in its next read here.
 *
 * <p>With a size of zero the cache is off: {@link #get} and {@link #view} always miss, and
 * {@link #mget} and {@link #track} read through the request path.
 */
public final class NearCache {
  private static final Logger log = LoggerFactory.getLogger(NearCache.class);
  /** Per entry beyond key and value: Caffeine's node, the key's String and the array header. */
  private static final int ENTRY_OVERHEAD_BYTES = 96;
  /** Views kept per key at most (directions and page sizes asked for); the oldest goes first. */
  static final int MAX_VIEWS_PER_KEY = 4;
  /**
   * A view may take this share of the cache at most: one huge page (up to a thousand messages of
   * up to 1 MiB each) would otherwise push out thousands of small copies.
   */
  static final int MAX_VIEW_SHARE = 16;
  /** Invalidation counters, by key hash: a read of one key is not spoilt by changes to others. */
  private static final int STRIPES = 4096;

  private final RedisTier redis;
  private final long maxViewBytes;
  /** A key's copy: its value (byte[]) or the views derived from it ({@link Views}). */
  private final Cache<String, Object> values;
  private final LoopConnections tracked;
  /** Tracking connections whose CLIENT TRACKING was acknowledged and which are still connected. */
  private final Set<Object> tracking = ConcurrentHashMap.newKeySet();
  /**
   * Invalidations per stripe of keys, and clears. A read whose reply might be older than an
   * invalidation of its key processed meanwhile (counted after the read was sent) fills
   * nothing: see {@link #version}.
   */
  private final AtomicLongArray invalidations = new AtomicLongArray(STRIPES);
  private final AtomicLong clearings = new AtomicLong();
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
    this.maxViewBytes = maxBytes / MAX_VIEW_SHARE;
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
        .weigher((String k, Object v) -> 2 * k.length() + ENTRY_OVERHEAD_BYTES
            + (v instanceof byte[] b ? b.length : ((Views) v).weight()))
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

  /** The cached copy of {@code key}'s value, or null. */
  public byte[] get(String key) {
    return values == null ? null : values.getIfPresent(key) instanceof byte[] b ? b : null;
  }

  /** The view of {@code key} kept for {@code shape} (see {@link #keepView}), or null. */
  public Object view(String key, Object shape) {
    return values == null ? null : values.getIfPresent(key) instanceof Views v ? v.get(shape) : null;
  }

  /**
   * Where to read {@code key} for a view of it: this event loop's tracking connection, so that
   * Redis tells this gateway when the key changes. With the cache off, or while that connection
   * is not open, the request path (and nothing read there is kept).
   */
  public TrackedRead track(String key) {
    if (values == null) {
      return new TrackedRead(key, null, redis, 0);
    }
    try {
      StatefulRedisConnection<String, byte[]> c = tracked.current();
      return new TrackedRead(key, c, redis, version(key));
    } catch (RedisConnectionException e) {
      lastFallbackNanos = System.nanoTime();
      return new TrackedRead(key, null, redis, 0);
    }
  }

  /**
   * Keeps {@code view}, derived from what {@code read} read, as the view of its key for
   * {@code shape} until the key changes; nothing is kept if it changed since the read was sent,
   * if the read went where changes are not tracked, or if the view is larger than a sixteenth of
   * the cache.
   *
   * @param weight the view's size in bytes, as it counts against the cache's bound
   */
  public void keepView(TrackedRead read, Object shape, Object view, int weight) {
    StatefulRedisConnection<String, byte[]> c = read.connection;
    if (c == null || weight > maxViewBytes || !tracking.contains(c) || version(read.key) != read.version) {
      return;
    }
    values.asMap().compute(read.key, (k, old) -> (old instanceof Views v ? v : Views.NONE).with(shape, view, weight));
    // An invalidation may have been counted between the check and the put (see mget).
    if (version(read.key) != read.version || !tracking.contains(c)) {
      values.invalidate(read.key);
    }
  }

  /**
   * Drops the copies of a key this gateway has just changed in Redis. Redis's push will say the
   * same, but possibly after this gateway has answered the change's caller; that caller's next
   * read here must not see the copy from before.
   */
  public void invalidate(String key) {
    if (values != null) {
      invalidations.incrementAndGet(stripe(key));
      values.invalidate(key);
    }
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
    long[] before = new long[keys.length];
    for (int i = 0; i < keys.length; i++) {
      before[i] = version(keys[i]);
    }
    return c.async().mget(keys).thenApply(found -> {
      if (!tracking.contains(c)) {
        return found;
      }
      for (int i = 0; i < found.size(); i++) {
        KeyValue<String, byte[]> kv = found.get(i);
        if (kv.hasValue() && version(keys[i]) == before[i]) {
          values.put(kv.getKey(), kv.getValue());
          // An invalidation may have been counted between the check and the put, on the
          // connection's event loop while this runs elsewhere: undo rather than keep a stale
          // copy.
          if (version(keys[i]) != before[i] || !tracking.contains(c)) {
            values.invalidate(kv.getKey());
          }
        }
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
    List<Object> content = push.getContent(StringCodec.UTF8::decodeKey);
    if (content.size() > 1 && content.get(1) instanceof List<?> keys) {
      for (Object key : keys) {
        if (key instanceof String k) {
          invalidate(k);
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
      // Tracking does not survive a reconnect: a connection that lost its server is done (lettuce
      // would reconnect it untracked), the next read opens a tracking one. One closed by the
      // gateway (RedisTier.close at shutdown) disconnects too, and a second close of it makes
      // lettuce warn. isOpen() cannot tell the two apart, it is false for both; isClosed() is
      // true only after a close().
      if (!connection.isClosed()) {
        connection.closeAsync();
      }
    }
  }

  private void clear() {
    clearings.incrementAndGet();
    values.invalidateAll();
    clears.increment();
  }

  /**
   * Changes whenever an invalidation that may concern {@code key} is processed: both counters
   * only grow, so their sum differs from an earlier one exactly when either moved since.
   */
  private long version(String key) {
    return clearings.get() + invalidations.get(stripe(key));
  }

  static int stripe(String key) {
    return (key.hashCode() * 0x9E3779B9) >>> (32 - Integer.numberOfTrailingZeros(STRIPES));
  }

  /**
   * A read of {@code key} for a view: the commands to send it with, and what {@link #keepView}
   * needs to know whether the answer may be kept.
   */
  public static final class TrackedRead {
    private final String key;
    /** The tracking connection the read goes to; null when it goes where nothing is tracked. */
    private final StatefulRedisConnection<String, byte[]> connection;
    private final RedisTier redis;
    private final long version;

    private TrackedRead(String key, StatefulRedisConnection<String, byte[]> connection, RedisTier redis,
        long version) {
      this.key = key;
      this.connection = connection;
      this.redis = redis;
      this.version = version;
    }

    /**
     * Where to send the read of the key.
     *
     * @throws io.lettuce.core.RedisConnectionException when it goes to the request path and that
     *     is not connected
     */
    public RedisAsyncCommands<String, byte[]> commands() {
      return connection != null ? connection.async() : redis.async();
    }
  }

  /** The views kept of one key, by shape; immutable, replaced as a whole. */
  private record Views(Object[] shapes, Object[] views, int[] weights) {
    static final Views NONE = new Views(new Object[0], new Object[0], new int[0]);

    Object get(Object shape) {
      for (int i = 0; i < shapes.length; i++) {
        if (shapes[i].equals(shape)) {
          return views[i];
        }
      }
      return null;
    }

    Views with(Object shape, Object view, int weight) {
      int n = shapes.length;
      int at = Arrays.asList(shapes).indexOf(shape);
      // A new shape goes last; past the limit, the oldest makes room.
      int from = at >= 0 || n < MAX_VIEWS_PER_KEY ? 0 : 1;
      int size = at >= 0 ? n : Math.min(n + 1, MAX_VIEWS_PER_KEY);
      Object[] s = new Object[size];
      Object[] v = new Object[size];
      int[] w = new int[size];
      int j = 0;
      for (int i = from; i < n; i++, j++) {
        s[j] = shapes[i];
        v[j] = i == at ? view : views[i];
        w[j] = i == at ? weight : weights[i];
      }
      if (at < 0) {
        s[j] = shape;
        v[j] = view;
        w[j] = weight;
      }
      return new Views(s, v, w);
    }

    /** Clamped so that the entry's weight stays an int however large the cache is. */
    int weight() {
      long total = 0;
      for (int w : weights) {
        total += w;
      }
      return (int) Math.min(total, Integer.MAX_VALUE / 2);
    }
  }
}
