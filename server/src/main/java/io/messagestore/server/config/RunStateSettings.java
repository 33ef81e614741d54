package io.messagestore.server.config;

import io.messagestore.api.v1.TtlClass;
import java.time.Duration;

/**
 * Agent run state: how large one state may be, how long Redis keeps a run of each TTL class, and
 * how often a {@code CHECKPOINT_AUTO} run is checkpointed to PostgreSQL in the background.
 */
public record RunStateSettings(
    int maxStateBytes,
    Duration ttlTemporary,
    Duration ttlCheckpoint,
    Duration ttlPersistent,
    int checkpointEvery,
    Duration checkpointInterval) {

  /** Also stays below {@link ServerSettings#MAX_INBOUND_MESSAGE_BYTES}: checked by {@link GatewayConfig}. */
  public static final Setting<Integer> MAX_RUN_STATE_BYTES =
      Setting.integer("MESSAGESTORE_MAX_RUN_STATE_BYTES", 1024 * 1024).rule(n -> n >= 1, "must be positive");
  public static final Setting<Duration> RUN_TTL_TEMPORARY =
      Setting.positiveDuration("MESSAGESTORE_RUN_TTL_TEMPORARY", Duration.ofSeconds(300));
  public static final Setting<Duration> RUN_TTL_CHECKPOINT =
      Setting.positiveDuration("MESSAGESTORE_RUN_TTL_CHECKPOINT", Duration.ofSeconds(3600));
  public static final Setting<Duration> RUN_TTL_PERSISTENT =
      Setting.positiveDuration("MESSAGESTORE_RUN_TTL_PERSISTENT", Duration.ofSeconds(86400));
  public static final Setting<Integer> RUN_CHECKPOINT_EVERY = Setting.integer("MESSAGESTORE_RUN_CHECKPOINT_EVERY", 10)
      .rule(n -> n >= 1, "must be positive");
  /**
   * Must be shorter than every TTL class: a background checkpoint due after the run's Redis copy
   * expired would find nothing to save.
   */
  public static final Setting<Duration> RUN_CHECKPOINT_INTERVAL =
      Setting.positiveDuration("MESSAGESTORE_RUN_CHECKPOINT_INTERVAL", Duration.ofSeconds(30));

  public RunStateSettings {
    MAX_RUN_STATE_BYTES.check(maxStateBytes);
    RUN_TTL_TEMPORARY.check(ttlTemporary);
    RUN_TTL_CHECKPOINT.check(ttlCheckpoint);
    RUN_TTL_PERSISTENT.check(ttlPersistent);
    RUN_CHECKPOINT_EVERY.check(checkpointEvery);
    RUN_CHECKPOINT_INTERVAL.check(checkpointInterval);
    Duration shortest = min(ttlTemporary, min(ttlCheckpoint, ttlPersistent));
    RUN_CHECKPOINT_INTERVAL.require(checkpointInterval.compareTo(shortest) < 0, checkpointInterval,
        "must be shorter than the shortest run TTL class (" + shortest + ")");
  }

  static RunStateSettings from(SettingValues v) {
    return new RunStateSettings(v.get(MAX_RUN_STATE_BYTES), v.get(RUN_TTL_TEMPORARY), v.get(RUN_TTL_CHECKPOINT),
        v.get(RUN_TTL_PERSISTENT), v.get(RUN_CHECKPOINT_EVERY), v.get(RUN_CHECKPOINT_INTERVAL));
  }

  /** How long Redis keeps a run written with {@code ttlClass} (unspecified: {@code CHECKPOINT}). */
  public Duration ttl(TtlClass ttlClass) {
    return switch (ttlClass) {
      case TEMPORARY -> ttlTemporary;
      case PERSISTENT -> ttlPersistent;
      default -> ttlCheckpoint;
    };
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
