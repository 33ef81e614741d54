package io.messagestore.server.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.AclSetuserArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.protocol.CommandKeyword;
import io.lettuce.core.protocol.CommandType;
import io.messagestore.server.config.RedisSettings;
import io.messagestore.server.eventloop.EventLoops;
import io.messagestore.server.testing.FreePorts;
import io.messagestore.server.testing.LocalTiers;
import io.messagestore.server.testing.Poll;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The near cache against a private Redis (flushed, stopped and started here): copies live
 * exactly as long as Redis says they are current.
 */
class NearCacheTest {
  static final int PORT = FreePorts.next();
  static Path dir;
  static RedisClient otherClient;

  EventLoops loops;
  RedisTier redis;
  SimpleMeterRegistry meters;
  StatefulRedisConnection<String, String> other;

  @BeforeAll
  static void startRedis() throws Exception {
    dir = LocalTiers.privateDir("near-cache");
    LocalTiers.startPrivate("redis", PORT, dir);
    otherClient = RedisClient.create("redis://127.0.0.1:" + PORT);
  }

  @AfterAll
  static void stopRedis() {
    otherClient.shutdown();
    LocalTiers.stopPrivate("redis", dir);
  }

  @BeforeEach
  void connect() {
    loops = new EventLoops(1);
    redis = new RedisTier(new RedisSettings(URI.create("redis://127.0.0.1:" + PORT), Duration.ofSeconds(2)), loops);
    meters = new SimpleMeterRegistry();
    other = otherClient.connect();
  }

  @AfterEach
  void close() {
    other.close();
    redis.close();
    loops.close();
  }

  NearCache cache(long bytes) {
    return new NearCache(redis, bytes, Duration.ofHours(1), meters);
  }

  RedisCommands<String, String> other() {
    return other.sync();
  }

  static String key() {
    return "nc:{" + UUID.randomUUID() + "}:v";
  }

  static String text(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  static List<String> read(NearCache cache, String... keys) throws Exception {
    return cache.mget(keys).toCompletableFuture().get(10, TimeUnit.SECONDS).stream()
        .map(kv -> kv.hasValue() ? text(kv.getValue()) : null).toList();
  }

  static void barrier(NearCache cache) throws Exception {
    cache.barrier().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aValueReadOnceIsServedFromTheCopyUntilAnotherClientChangesIt() throws Exception {
    NearCache cache = cache(1 << 20);
    String k = key();
    other().set(k, "v1");
    assertThat(cache.get(k)).isNull();

    assertThat(read(cache, k)).containsExactly("v1");
    assertThat(text(cache.get(k))).isEqualTo("v1");

    other().set(k, "v2");
    barrier(cache);
    assertThat(cache.get(k)).isNull();
    assertThat(read(cache, k)).containsExactly("v2");
    assertThat(text(cache.get(k))).isEqualTo("v2");
  }

  @Test
  void aKeyRedisDoesNotHaveIsNotCopied() throws Exception {
    NearCache cache = cache(1 << 20);
    String k = key();

    assertThat(read(cache, k)).containsExactly((String) null);
    assertThat(cache.get(k)).isNull();

    // Tracked all the same: once it exists, a read finds it in Redis, not a remembered miss.
    other().set(k, "late");
    assertThat(read(cache, k)).containsExactly("late");
  }

  @Test
  void aCopyGoesWhenItsKeyExpiresInRedis() throws Exception {
    NearCache cache = cache(1 << 20);
    String k = key();
    other().psetex(k, 300, "short-lived");
    assertThat(read(cache, k)).containsExactly("short-lived");

    Poll.until(Duration.ofSeconds(20), "the expiry's invalidation", () -> cache.get(k) == null);
    assertThat(other().exists(k)).isZero();
  }

  @Test
  void flushingRedisDropsEveryCopy() throws Exception {
    NearCache cache = cache(1 << 20);
    String a = key();
    String b = key();
    other().set(a, "a");
    other().set(b, "b");
    assertThat(read(cache, a, b)).containsExactly("a", "b");

    other().flushall();
    barrier(cache);

    assertThat(cache.get(a)).isNull();
    assertThat(cache.get(b)).isNull();
    assertThat(meters.get("messagestore.redis.near.cache.clears").counter().count()).isEqualTo(1);
  }

  @Test
  void losingRedisDropsEveryCopyAndTrackingResumesWhenItIsBack() throws Exception {
    NearCache cache = cache(1 << 20);
    String k = key();
    other().set(k, "before");
    assertThat(read(cache, k)).containsExactly("before");

    LocalTiers.stopPrivate("redis", dir);
    try {
      Poll.until(Duration.ofSeconds(20), "copies dropped with the connection", () -> cache.get(k) == null);
    } finally {
      LocalTiers.startPrivate("redis", PORT, dir);
    }

    other().set(k, "after");
    Poll.until(Duration.ofSeconds(20), "a tracking connection again", () -> {
      try {
        return "after".equals(read(cache, k).get(0));
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    assertThat(text(cache.get(k))).isEqualTo("after");
    // The new connection tracks too: a change still reaches the copy.
    other().set(k, "changed");
    barrier(cache);
    assertThat(cache.get(k)).isNull();
  }

  @Test
  void aRedisThatRefusesTrackingStillAnswersAndNothingIsCopied() throws Exception {
    // As a managed Redis may: every command allowed but CLIENT TRACKING.
    other().aclSetuser("no-tracking", AclSetuserArgs.Builder.on().addPassword("pw")
        .allKeys().allChannels().allCommands().removeCommand(CommandType.CLIENT, CommandKeyword.TRACKING));
    RedisTier restricted = new RedisTier(
        new RedisSettings(URI.create("redis://no-tracking:pw@127.0.0.1:" + PORT), Duration.ofSeconds(2)), loops);
    try {
      NearCache cache = new NearCache(restricted, 1 << 20, Duration.ofHours(1), meters);
      String k = key();
      other().set(k, "v");

      assertThat(read(cache, k)).containsExactly("v");
      assertThat(read(cache, k)).containsExactly("v");
      assertThat(cache.get(k)).isNull();
    } finally {
      restricted.close();
    }
  }

  @Test
  void aSizeOfZeroKeepsNothing() throws Exception {
    NearCache cache = cache(0);
    String k = key();
    other().set(k, "v");

    assertThat(read(cache, k)).containsExactly("v");
    assertThat(cache.get(k)).isNull();
  }

  @Test
  void copiesOccupyNoMoreThanTheConfiguredBytes() throws Exception {
    long max = 64 * 1024;
    NearCache cache = cache(max);
    String value = "x".repeat(1024);
    String[] keys = new String[200];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = key();
      other().set(keys[i], value);
    }

    for (String k : keys) {
      assertThat(read(cache, k)).containsExactly(value);
    }

    Poll.until(Duration.ofSeconds(10), "eviction down to the bound",
        () -> meters.get("messagestore.redis.near.cache.bytes").gauge().value() <= max);
    long kept = Arrays.stream(keys).filter(k -> cache.get(k) != null).count();
    assertThat(kept).isBetween(1L, max / 1024);
  }

  /** Reads the members of a sorted set the way a view is read: where Redis tracks the key. */
  static NearCache.TrackedRead readIndex(NearCache cache, String key) throws Exception {
    NearCache.TrackedRead read = cache.track(key);
    read.commands().zrange(key, 0, -1).toCompletableFuture().get(10, TimeUnit.SECONDS);
    return read;
  }

  /** Two keys whose invalidations are counted apart (a shared stripe would make it one). */
  static String[] keysOfDifferentStripes() {
    String a = key();
    String b = key();
    while (NearCache.stripe(a) == NearCache.stripe(b)) {
      b = key();
    }
    return new String[] {a, b};
  }

  @Test
  void aViewIsKeptUntilItsKeyChangesInRedis() throws Exception {
    NearCache cache = cache(1 << 20);
    String k = key();
    other().zadd(k, 0, "a");

    cache.keepView(readIndex(cache, k), "first", "[a]", 3);
    assertThat(cache.view(k, "first")).isEqualTo("[a]");
    assertThat(cache.view(k, "other shape")).isNull();
    assertThat(cache.get(k)).as("a view is not the key's value").isNull();

    other().zadd(k, 0, "b");
    barrier(cache);
    assertThat(cache.view(k, "first")).isNull();
  }

  @Test
  void aViewOfAReadThatAChangeOvertookIsNotKept() throws Exception {
    NearCache cache = cache(1 << 20);
    String k = key();
    other().zadd(k, 0, "a");
    NearCache.TrackedRead read = readIndex(cache, k);

    // The change is applied here before the view of the older read is offered.
    other().zadd(k, 0, "b");
    barrier(cache);
    cache.keepView(read, "first", "[a]", 3);

    assertThat(cache.view(k, "first")).isNull();
  }

  @Test
  void aChangeToAnotherKeyDoesNotSpoilAView() throws Exception {
    NearCache cache = cache(1 << 20);
    String[] k = keysOfDifferentStripes();
    other().zadd(k[0], 0, "a");
    other().zadd(k[1], 0, "x");
    readIndex(cache, k[1]);
    NearCache.TrackedRead read = readIndex(cache, k[0]);

    other().zadd(k[1], 0, "y");
    barrier(cache);
    cache.keepView(read, "first", "[a]", 3);

    assertThat(cache.view(k[0], "first")).isEqualTo("[a]");
  }

  @Test
  void aChangeMadeThroughThisGatewayDropsTheViewWithoutWaitingForRedis() throws Exception {
    NearCache cache = cache(1 << 20);
    String k = key();
    other().zadd(k, 0, "a");
    NearCache.TrackedRead read = readIndex(cache, k);
    cache.keepView(read, "first", "[a]", 3);

    cache.invalidate(k);

    assertThat(cache.view(k, "first")).isNull();
    // And a read from before the change is not kept afterwards either.
    cache.keepView(read, "first", "[a]", 3);
    assertThat(cache.view(k, "first")).isNull();
  }

  @Test
  void aKeyKeepsItsNewestViewsUpToTheLimit() throws Exception {
    NearCache cache = cache(1 << 20);
    String k = key();
    other().zadd(k, 0, "a");
    NearCache.TrackedRead read = readIndex(cache, k);

    for (int shape = 0; shape <= NearCache.MAX_VIEWS_PER_KEY; shape++) {
      cache.keepView(read, shape, "view " + shape, 6);
    }
    cache.keepView(read, 2, "view 2 again", 12);

    assertThat(cache.view(k, 0)).as("the oldest made room").isNull();
    for (int shape = 1; shape <= NearCache.MAX_VIEWS_PER_KEY; shape++) {
      assertThat(cache.view(k, shape)).isEqualTo(shape == 2 ? "view 2 again" : "view " + shape);
    }
  }

  @Test
  void aViewLargerThanASixteenthOfTheCacheIsNotKept() throws Exception {
    NearCache cache = cache(1 << 20);
    String k = key();
    other().zadd(k, 0, "a");
    NearCache.TrackedRead read = readIndex(cache, k);

    cache.keepView(read, "huge", "a page of huge messages", (1 << 20) / NearCache.MAX_VIEW_SHARE + 1);
    cache.keepView(read, "fits", "a page", (1 << 20) / NearCache.MAX_VIEW_SHARE);

    assertThat(cache.view(k, "huge")).isNull();
    assertThat(cache.view(k, "fits")).isEqualTo("a page");
  }

  @Test
  void withTheCacheOffAViewIsReadButNotKept() throws Exception {
    NearCache cache = cache(0);
    String k = key();
    other().zadd(k, 0, "a");

    cache.keepView(readIndex(cache, k), "first", "[a]", 3);

    assertThat(cache.view(k, "first")).isNull();
  }

  @Test
  void aNegativeSizeIsRefusedWithTheValue() {
    assertThatThrownBy(() -> cache(-1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
  }
}
