package io.messagestore.server.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.lettuce.core.RedisCommandExecutionException;
import io.messagestore.server.config.BreakerSettings;
import io.messagestore.server.error.StoreError;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** What counts as a failure of each tier: declared once where the breakers are built. */
class TierBreakersTest {
  /** A breaker opens on the first call its rule counts as a failure. */
  final TierBreakers breakers = new TierBreakers(
      new BreakerSettings(50f, Duration.ofMinutes(1), 100f, Duration.ofHours(1), 1, 1, 1), new SimpleMeterRegistry());

  static void fails(TierBreaker breaker, Exception e) {
    assertThatThrownBy(() -> breaker.callBlocking(() -> {
      throw e;
    })).isSameAs(e);
  }

  @Test
  void anyRedisErrorCountsAndEachDirectionOpensOnItsOwn() {
    CompletableFuture<Object> call = breakers.redisRead().call(
        () -> CompletableFuture.failedFuture(new RedisCommandExecutionException("LOADING Redis is loading")));
    assertThat(call).isCompletedExceptionally();
    assertThat(breakers.redisRead().state()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(breakers.redisWrite().state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(breakers.redisWrite().wouldPermit()).isTrue();
    assertThat(breakers.redisRead().wouldPermit()).isFalse();
  }

  @Test
  void postgresCountsConnectivityFailuresOnly() {
    fails(breakers.postgresWrite(), new SQLException("duplicate key", "23505"));
    assertThat(breakers.postgresWrite().state()).as("a refused row is the tier working")
        .isEqualTo(CircuitBreaker.State.CLOSED);
    fails(breakers.postgresWrite(), new SQLException("connection refused", "08001"));
    assertThat(breakers.postgresWrite().state()).isEqualTo(CircuitBreaker.State.OPEN);
  }

  @Test
  void aValueTheTierRefusesIsTheCallersFaultAndNeverCounts() {
    SQLException refused = new SQLException("invalid byte sequence for encoding \"UTF8\": 0x00", "22021");
    fails(breakers.postgresRead(), refused);
    assertThat(breakers.postgresRead().state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(breakers.postgresRead().explain(refused, "context")).isInstanceOf(StoreError.Invalid.class)
        .hasMessageStartingWith("postgres refused a value of the request");
    assertThat(breakers.postgresRead().explain(new SQLException("gone", "08006"), "its owner is not in Redis"))
        .isInstanceOf(StoreError.TierUnavailable.class)
        .hasMessage("postgres unavailable and its owner is not in Redis: SQLException (gone)");
  }

  @Test
  void theServersOwnAnswersNeverCount() {
    fails(breakers.postgresWrite(), new StoreError.Denied("t", "mallory"));
    CompletableFuture<Object> call = breakers.redisWrite().call(
        () -> CompletableFuture.failedFuture(new StoreError.Invalid("no")));
    assertThat(call).isCompletedExceptionally();
    assertThat(breakers.postgresWrite().state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(breakers.redisWrite().state()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void anyClickHouseErrorCounts() {
    fails(breakers.clickhouseRead(), new IOException("connection reset"));
    assertThat(breakers.clickhouseRead().state()).isEqualTo(CircuitBreaker.State.OPEN);
  }

  @Test
  void anAbandonedCallCountsAsNothing() {
    CompletableFuture<Object> never = new CompletableFuture<>();
    CompletableFuture<Object> call = breakers.clickhouseRead().call(() -> never);
    never.cancel(false);
    assertThat(call).isCompletedExceptionally();
    assertThat(breakers.clickhouseRead().state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThatThrownBy(() -> breakers.clickhouseRead().callBlocking(() -> {
      throw new InterruptedException("shutting down");
    })).isInstanceOf(InterruptedException.class);
    assertThat(breakers.clickhouseRead().state()).isEqualTo(CircuitBreaker.State.CLOSED);
  }
}
