package io.messagestore.server.config;

import java.time.Duration;

/**
 * What the gateway keeps in Redis and for how long (message copies, idempotency keys, each
 * thread's recent index), how much of it it copies into its own heap, and how often it looks for
 * threads whose Redis state must be repaired after writes went around Redis.
 */
public record RedisDataSettings(
    Duration messageTtl,
    Duration idempotencyTtl,
    int recentWindow,
    long nearCacheBytes,
    Duration repairInterval) {

  // The copies live in the heap next to everything else: more than half of it is a crash
  // (OutOfMemoryError) waiting for a busy hour, better refused at start-up.
  private static final long HALF_THE_HEAP = Runtime.getRuntime().maxMemory() / 2;

  public static final Setting<Duration> MESSAGE_TTL =
      Setting.positiveDuration("MESSAGESTORE_MESSAGE_TTL", Duration.ofHours(1));
  public static final Setting<Duration> IDEMPOTENCY_TTL =
      Setting.positiveDuration("MESSAGESTORE_IDEMPOTENCY_TTL", Duration.ofHours(24));
  public static final Setting<Integer> RECENT_WINDOW = Setting.integer("MESSAGESTORE_RECENT_WINDOW", 1000)
      .rule(n -> n >= 1, "must be positive");
  /** Hot messages and thread owners copied from Redis into the heap (see NearCache); 0 = off. */
  public static final Setting<Long> NEAR_CACHE_BYTES = Setting.bytes("MESSAGESTORE_NEAR_CACHE_BYTES", 64L * 1024 * 1024)
      .rule(n -> n >= 0, "must be 0 (off) or more")
      .rule(n -> n <= HALF_THE_HEAP,
          "must be at most half the maximum heap (" + HALF_THE_HEAP + " bytes here; raise -Xmx to allow more)");
  /** How often every instance looks for threads written around Redis (see FailoverRepair). */
  public static final Setting<Duration> REDIS_REPAIR_INTERVAL =
      Setting.positiveDuration("MESSAGESTORE_REDIS_REPAIR_INTERVAL", Duration.ofSeconds(1));

  public RedisDataSettings {
    MESSAGE_TTL.check(messageTtl);
    IDEMPOTENCY_TTL.check(idempotencyTtl);
    RECENT_WINDOW.check(recentWindow);
    NEAR_CACHE_BYTES.check(nearCacheBytes);
    REDIS_REPAIR_INTERVAL.check(repairInterval);
  }

  static RedisDataSettings from(SettingValues v) {
    return new RedisDataSettings(v.get(MESSAGE_TTL), v.get(IDEMPOTENCY_TTL), v.get(RECENT_WINDOW),
        v.get(NEAR_CACHE_BYTES), v.get(REDIS_REPAIR_INTERVAL));
  }
}
