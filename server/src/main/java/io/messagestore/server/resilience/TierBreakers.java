package io.messagestore.server.resilience;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.messagestore.server.config.BreakerSettings;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.postgres.PostgresTier;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One circuit breaker per tier and direction, and what counts as a failure of each tier.
 *
 * <p>Reads and writes fail differently (a read replica can be down while the primary takes
 * writes, a full disk fails writes only), so each direction of each tier opens on its own. What
 * a failure is depends on the tier only, and is declared here, once per tier:
 * <ul>
 *   <li><b>Redis</b>: every error (connection, timeout, error reply).</li>
 *   <li><b>PostgreSQL</b>: connectivity-class errors only ({@link PostgresTier#isConnectivityFailure}):
 *       a refused row or a refused value is the tier working, and counts as success.</li>
 *   <li><b>ClickHouse</b>: every error.</li>
 * </ul>
 * For every tier, the server's own answers ({@link StoreError}: denied, invalid, ...) count as
 * success, and a call its caller abandoned (cancelled, interrupted) counts as nothing
 * ({@link GuardedCall}). A value of the request that a tier refuses is the caller's fault: it
 * never counts as a failure, and the caller gets INVALID_ARGUMENT ({@link TierBreaker#explain}).
 */
public final class TierBreakers {
  private static final Logger log = LoggerFactory.getLogger(TierBreakers.class);

  public static final String REDIS_READ = "redis-read";
  public static final String REDIS_WRITE = "redis-write";
  public static final String POSTGRES_READ = "postgres-read";
  public static final String POSTGRES_WRITE = "postgres-write";
  public static final String CLICKHOUSE_READ = "clickhouse-read";
  public static final String CLICKHOUSE_WRITE = "clickhouse-write";

  private final TierBreaker redisRead;
  private final TierBreaker redisWrite;
  private final TierBreaker postgresRead;
  private final TierBreaker postgresWrite;
  private final TierBreaker clickhouseRead;
  private final TierBreaker clickhouseWrite;

  public TierBreakers(BreakerSettings settings, MeterRegistry meters) {
    CircuitBreakerConfig common = CircuitBreakerConfig.custom()
        .failureRateThreshold(settings.failureRateThreshold())
        .slowCallDurationThreshold(settings.slowCallDuration())
        .slowCallRateThreshold(settings.slowCallRateThreshold())
        .waitDurationInOpenState(settings.waitInOpenState())
        .permittedNumberOfCallsInHalfOpenState(settings.permittedCallsInHalfOpenState())
        .minimumNumberOfCalls(settings.minimumNumberOfCalls())
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .slidingWindowSize(settings.slidingWindowSize())
        // Without this an OPEN breaker only moves to HALF_OPEN when a call happens to ask,
        // and health would report a tier as down long after it came back.
        .automaticTransitionFromOpenToHalfOpenEnabled(true)
        .build();
    CircuitBreakerRegistry registry = CircuitBreakerRegistry.of(common);
    Tier redis = new Tier("redis", e -> true, e -> false);
    Tier postgres = new Tier("postgres", PostgresTier::isConnectivityFailure, PostgresTier::isRefusedValue);
    Tier clickhouse = new Tier("clickhouse", e -> true, e -> false);
    redisRead = redis.breaker(registry, common, REDIS_READ);
    redisWrite = redis.breaker(registry, common, REDIS_WRITE);
    postgresRead = postgres.breaker(registry, common, POSTGRES_READ);
    postgresWrite = postgres.breaker(registry, common, POSTGRES_WRITE);
    clickhouseRead = clickhouse.breaker(registry, common, CLICKHOUSE_READ);
    // Its calls are the feeder's batches, slow by nature: only failures, not slowness, open it.
    clickhouseWrite = clickhouse.breaker(registry, CircuitBreakerConfig.from(common)
        .slowCallDurationThreshold(Duration.ofMinutes(1)).build(), CLICKHOUSE_WRITE);
    TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(registry).bindTo(meters);
  }

  /**
   * A tier's failure rule: {@code fails} says which errors mean the tier is unhealthy,
   * {@code refusesValue} which ones are a value of the request that it refused.
   */
  private record Tier(String name, Predicate<Throwable> fails, Predicate<Throwable> refusesValue) {
    TierBreaker breaker(CircuitBreakerRegistry registry, CircuitBreakerConfig common, String breakerName) {
      CircuitBreakerConfig config = CircuitBreakerConfig.from(common)
          .recordException(e -> !(e instanceof StoreError) && !refusesValue.test(e) && fails.test(e))
          .build();
      CircuitBreaker cb = registry.circuitBreaker(breakerName, config);
      cb.getEventPublisher().onStateTransition(e ->
          log.warn("circuit breaker {}: {}", e.getCircuitBreakerName(), e.getStateTransition()));
      return new TierBreaker(cb, name, refusesValue);
    }
  }

  public TierBreaker redisRead() {
    return redisRead;
  }

  public TierBreaker redisWrite() {
    return redisWrite;
  }

  public TierBreaker postgresRead() {
    return postgresRead;
  }

  public TierBreaker postgresWrite() {
    return postgresWrite;
  }

  /** Guards the archive reads. */
  public TierBreaker clickhouseRead() {
    return clickhouseRead;
  }

  /** Nothing writes to ClickHouse yet (the archive job will). */
  public TierBreaker clickhouseWrite() {
    return clickhouseWrite;
  }
}
