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

  public static final float DEFAULT_FAILURE_RATE_THRESHOLD = 50f;
  public static final Duration DEFAULT_SLOW_CALL_DURATION = Duration.ofMillis(500);
  public static final float DEFAULT_SLOW_CALL_RATE_THRESHOLD = 80f;
  public static final Duration DEFAULT_WAIT_IN_OPEN_STATE = Duration.ofSeconds(2);
  public static final int DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN_STATE = 5;
  public static final int DEFAULT_MINIMUM_NUMBER_OF_CALLS = 10;
  public static final int DEFAULT_SLIDING_WINDOW_SIZE = 50;

  public static final BreakerSettings DEFAULT = new BreakerSettings(
      DEFAULT_FAILURE_RATE_THRESHOLD, DEFAULT_SLOW_CALL_DURATION, DEFAULT_SLOW_CALL_RATE_THRESHOLD,
      DEFAULT_WAIT_IN_OPEN_STATE, DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN_STATE,
      DEFAULT_MINIMUM_NUMBER_OF_CALLS, DEFAULT_SLIDING_WINDOW_SIZE);

  public BreakerSettings {
    check(failureRateThreshold > 0 && failureRateThreshold <= 100, ConfigKeys.BREAKER_FAILURE_RATE,
        failureRateThreshold, "must be a percentage in (0, 100]");
    check(slowCallDuration != null && !slowCallDuration.isNegative() && !slowCallDuration.isZero(),
        ConfigKeys.BREAKER_SLOW_CALL_DURATION, slowCallDuration, "must be a positive duration");
    check(slowCallRateThreshold > 0 && slowCallRateThreshold <= 100, ConfigKeys.BREAKER_SLOW_CALL_RATE,
        slowCallRateThreshold, "must be a percentage in (0, 100]");
    check(waitInOpenState != null && !waitInOpenState.isNegative() && !waitInOpenState.isZero(),
        ConfigKeys.BREAKER_OPEN_WAIT, waitInOpenState, "must be a positive duration");
    check(permittedCallsInHalfOpenState >= 1, ConfigKeys.BREAKER_HALF_OPEN_CALLS,
        permittedCallsInHalfOpenState, "must be positive");
    check(minimumNumberOfCalls >= 1, ConfigKeys.BREAKER_MINIMUM_CALLS, minimumNumberOfCalls, "must be positive");
    check(slidingWindowSize >= minimumNumberOfCalls, ConfigKeys.BREAKER_WINDOW, slidingWindowSize,
        "must be at least MESSAGESTORE_BREAKER_MINIMUM_CALLS (" + minimumNumberOfCalls + ")");
  }

  private static void check(boolean ok, String key, Object value, String rule) {
    if (!ok) {
      throw new ConfigException(key, String.valueOf(value), rule);
    }
  }
}
