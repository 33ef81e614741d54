package io.messagestore.server.config;

import java.time.Duration;

/**
 * What one message may carry, how long a durable send waits for its PostgreSQL commit, and how
 * failover writes are group-committed (how long one waits for company, how many groups commit
 * at once).
 */
public record WriteSettings(int maxContentBytes, Duration durableTimeout, Duration failoverLinger,
    int failoverCommitters) {

  /** Must also stay below {@link ServerSettings#MAX_INBOUND_MESSAGE_BYTES}: checked by {@link GatewayConfig}. */
  public static final Setting<Integer> MAX_CONTENT_BYTES =
      Setting.integer("MESSAGESTORE_MAX_CONTENT_BYTES", 1024 * 1024).rule(n -> n >= 1, "must be positive");
  public static final Setting<Duration> DURABLE_TIMEOUT =
      Setting.positiveDuration("MESSAGESTORE_DURABLE_TIMEOUT", Duration.ofSeconds(10));
  /**
   * While Redis cannot take writes, concurrent sends go to PostgreSQL together, one statement
   * and commit per group: the first of a group waits this long for others ({@code 0ms}: none;
   * sends that arrive while a group commits form the next group anyway).
   */
  public static final Setting<Duration> FAILOVER_LINGER =
      Setting.duration("MESSAGESTORE_FAILOVER_LINGER", Duration.ofMillis(2))
          .rule(d -> !d.isNegative(), "must not be negative")
          .rule(d -> d.compareTo(Duration.ofSeconds(1)) <= 0, "must be at most 1s");

  /**
   * Failover groups committing at once: while one waits for its commit's WAL flush the next
   * forms and goes to PostgreSQL. Each holds a PostgreSQL connection while it commits.
   */
  public static final Setting<Integer> FAILOVER_COMMITTERS =
      Setting.integer("MESSAGESTORE_FAILOVER_COMMITTERS", 2).rule(n -> n >= 1 && n <= 16, "must be 1 to 16");

  public WriteSettings {
    MAX_CONTENT_BYTES.check(maxContentBytes);
    DURABLE_TIMEOUT.check(durableTimeout);
    FAILOVER_LINGER.check(failoverLinger);
    FAILOVER_COMMITTERS.check(failoverCommitters);
  }

  static WriteSettings from(SettingValues v) {
    return new WriteSettings(v.get(MAX_CONTENT_BYTES), v.get(DURABLE_TIMEOUT), v.get(FAILOVER_LINGER),
        v.get(FAILOVER_COMMITTERS));
  }
}
