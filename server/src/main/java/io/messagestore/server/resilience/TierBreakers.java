package io.messagestore.server.resilience;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.messagestore.server.config.BreakerSettings;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One circuit breaker per tier and direction. Reads and writes fail differently (a read replica
 * can be down while the primary takes writes, a full disk fails writes only), so each direction
 * of each tier opens on its own.
 */
public final class TierBreakers {
  private static final Logger log = LoggerFactory.getLogger(TierBreakers.class);

  public static final String REDIS_READ = "redis-read";
  public static final String REDIS_WRITE = "redis-write";
  public static final String POSTGRES_READ = "postgres-read";
  public static final String POSTGRES_WRITE = "postgres-write";
  public static final String CLICKHOUSE_READ = "clickhouse-read";
  public static final String CLICKHOUSE_WRITE = "clickhouse-write";
  private static final List<String> ALL =
      List.of(REDIS_READ, REDIS_WRITE, POSTGRES_READ, POSTGRES_WRITE, CLICKHOUSE_READ, CLICKHOUSE_WRITE);

  private final CircuitBreakerRegistry registry;

  public TierBreakers(BreakerSettings settings, MeterRegistry meters) {
    CircuitBreakerConfig config = CircuitBreakerConfig.custom()
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
    registry = CircuitBreakerRegistry.of(config);
    for (String name : ALL) {
      CircuitBreaker cb = registry.circuitBreaker(name);
      cb.getEventPublisher().onStateTransition(e ->
          log.warn("circuit breaker {}: {}", e.getCircuitBreakerName(), e.getStateTransition()));
    }
    TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(registry).bindTo(meters);
  }

  public CircuitBreaker get(String name) {
    if (!ALL.contains(name)) {
      throw new IllegalArgumentException("unknown breaker " + name);
    }
    return registry.circuitBreaker(name);
  }

  public String state(String name) {
    return get(name).getState().name();
  }
}
