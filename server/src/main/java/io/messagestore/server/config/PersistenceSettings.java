package io.messagestore.server.config;

import java.time.Duration;

/**
 * The persistence stream (its shards and how much unpersisted work it may hold) and the
 * persisters that drain it into PostgreSQL (batch size, linger, reclaiming, dead-lettering, and
 * forgetting the consumers of stopped instances).
 */
public record PersistenceSettings(
    int streamShards,
    long maxBacklog,
    int batchSize,
    Duration linger,
    Duration pendingClaimTimeout,
    int maxDeliveries,
    Duration forgetConsumersAfter) {

  /** Fixed for the life of a deployment: it decides which shard, and key, a thread's entries use. */
  public static final Setting<Integer> STREAM_SHARDS = Setting.integer("MESSAGESTORE_STREAM_SHARDS", 4)
      .rule(n -> n >= 1 && n <= 1024, "must be 1-1024");
  public static final Setting<Long> MAX_BACKLOG = Setting.longInteger("MESSAGESTORE_MAX_BACKLOG", 1_000_000L)
      .rule(n -> n >= 1, "must be positive");
  public static final Setting<Integer> PERSISTER_BATCH_SIZE = Setting.integer("MESSAGESTORE_PERSISTER_BATCH_SIZE", 500)
      .rule(n -> n >= 1 && n <= 10_000, "must be 1-10000");
  public static final Setting<Duration> PERSISTER_LINGER =
      Setting.duration("MESSAGESTORE_PERSISTER_LINGER", Duration.ofMillis(5))
          .rule(d -> !d.isNegative(), "must not be negative");
  public static final Setting<Duration> PENDING_CLAIM_TIMEOUT =
      Setting.positiveDuration("MESSAGESTORE_PENDING_CLAIM_TIMEOUT", Duration.ofSeconds(30));
  public static final Setting<Integer> MAX_DELIVERIES = Setting.integer("MESSAGESTORE_MAX_DELIVERIES", 5)
      .rule(n -> n >= 1, "must be positive");
  /** A stopped instance's consumer, with nothing pending, leaves the persisters group after this long idle. */
  public static final Setting<Duration> FORGET_CONSUMERS_AFTER =
      Setting.positiveDuration("MESSAGESTORE_FORGET_CONSUMERS_AFTER", Duration.ofHours(1));

  public PersistenceSettings {
    STREAM_SHARDS.check(streamShards);
    MAX_BACKLOG.check(maxBacklog);
    PERSISTER_BATCH_SIZE.check(batchSize);
    PERSISTER_LINGER.check(linger);
    PENDING_CLAIM_TIMEOUT.check(pendingClaimTimeout);
    MAX_DELIVERIES.check(maxDeliveries);
    FORGET_CONSUMERS_AFTER.check(forgetConsumersAfter);
  }

  static PersistenceSettings from(SettingValues v) {
    return new PersistenceSettings(v.get(STREAM_SHARDS), v.get(MAX_BACKLOG), v.get(PERSISTER_BATCH_SIZE),
        v.get(PERSISTER_LINGER), v.get(PENDING_CLAIM_TIMEOUT), v.get(MAX_DELIVERIES), v.get(FORGET_CONSUMERS_AFTER));
  }
}
