package io.messagestore.server.config;

import java.time.Duration;

/**
 * Circuit breaker settings shared by every tier and direction (redis/postgres/clickhouse x
 * read/write). Each breaker gets its own instance of these settings, so one tier failing never
 * opens another's breaker.
 */
public record BreakerSettings(
    float failureRateThreshold,
    Duration slowCallDuration,
    float slowCallRateThreshold,
    Duration waitInOpenState,
    int permittedCallsInHalfOpenState,
    int minimumNumberOfCalls,
    int slidingWindowSize) {

  // These take plain numbers (no '_' grouping), as they always have.
  public static final Setting<Float> BREAKER_FAILURE_RATE =
      Setting.of("MESSAGESTORE_BREAKER_FAILURE_RATE", 50f, Float::parseFloat)
          .rule(r -> r > 0 && r <= 100, "must be a percentage in (0, 100]");
  public static final Setting<Duration> BREAKER_SLOW_CALL_DURATION =
      Setting.positiveDuration("MESSAGESTORE_BREAKER_SLOW_CALL_DURATION", Duration.ofMillis(500));
  public static final Setting<Float> BREAKER_SLOW_CALL_RATE =
      Setting.of("MESSAGESTORE_BREAKER_SLOW_CALL_RATE", 80f, Float::parseFloat)
          .rule(r -> r > 0 && r <= 100, "must be a percentage in (0, 100]");
  public static final Setting<Duration> BREAKER_OPEN_WAIT =
      Setting.positiveDuration("MESSAGESTORE_BREAKER_OPEN_WAIT", Duration.ofSeconds(2));
  public static final Setting<Integer> BREAKER_HALF_OPEN_CALLS =
      Setting.of("MESSAGESTORE_BREAKER_HALF_OPEN_CALLS", 5, Integer::parseInt).rule(n -> n >= 1, "must be positive");
  public static final Setting<Integer> BREAKER_MINIMUM_CALLS =
      Setting.of("MESSAGESTORE_BREAKER_MINIMUM_CALLS", 10, Integer::parseInt).rule(n -> n >= 1, "must be positive");
  /** Also at least {@link #BREAKER_MINIMUM_CALLS}: see the constructor. */
  public static final Setting<Integer> BREAKER_WINDOW =
      Setting.of("MESSAGESTORE_BREAKER_WINDOW", 50, Integer::parseInt);

  public static final BreakerSettings DEFAULT = new BreakerSettings(
      BREAKER_FAILURE_RATE.defaultValue(), BREAKER_SLOW_CALL_DURATION.defaultValue(),
      BREAKER_SLOW_CALL_RATE.defaultValue(), BREAKER_OPEN_WAIT.defaultValue(), BREAKER_HALF_OPEN_CALLS.defaultValue(),
      BREAKER_MINIMUM_CALLS.defaultValue(), BREAKER_WINDOW.defaultValue());

  public BreakerSettings {
    BREAKER_FAILURE_RATE.check(failureRateThreshold);
    BREAKER_SLOW_CALL_DURATION.check(slowCallDuration);
    BREAKER_SLOW_CALL_RATE.check(slowCallRateThreshold);
    BREAKER_OPEN_WAIT.check(waitInOpenState);
    BREAKER_HALF_OPEN_CALLS.check(permittedCallsInHalfOpenState);
    BREAKER_MINIMUM_CALLS.check(minimumNumberOfCalls);
    BREAKER_WINDOW.check(slidingWindowSize);
    BREAKER_WINDOW.require(slidingWindowSize >= minimumNumberOfCalls, slidingWindowSize,
        "must be at least MESSAGESTORE_BREAKER_MINIMUM_CALLS (" + minimumNumberOfCalls + ")");
  }

  static BreakerSettings from(SettingValues v) {
    return new BreakerSettings(v.get(BREAKER_FAILURE_RATE), v.get(BREAKER_SLOW_CALL_DURATION),
        v.get(BREAKER_SLOW_CALL_RATE), v.get(BREAKER_OPEN_WAIT), v.get(BREAKER_HALF_OPEN_CALLS),
        v.get(BREAKER_MINIMUM_CALLS), v.get(BREAKER_WINDOW));
  }
}
