package io.messagestore.server.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class GuardedCallTest {

  static CircuitBreaker halfOpenWithOnePermittedCall() {
    CircuitBreaker cb = CircuitBreaker.of("t", CircuitBreakerConfig.custom()
        .permittedNumberOfCallsInHalfOpenState(1)
        .waitDurationInOpenState(Duration.ofHours(1))
        .build());
    cb.transitionToOpenState();
    cb.transitionToHalfOpenState();
    return cb;
  }

  @Test
  void cancelledCallDoesNotLeaveTheBreakerStuckInHalfOpen() {
    CircuitBreaker cb = halfOpenWithOnePermittedCall();
    CompletableFuture<String> never = new CompletableFuture<>();
    CompletableFuture<String> call = GuardedCall.run(cb, () -> never, e -> true);
    never.cancel(false);
    assertThat(call).isCompletedExceptionally();
    // The one trial slot is free again: a real call can decide the breaker's state.
    CompletableFuture<String> trial = GuardedCall.run(cb, () -> CompletableFuture.completedFuture("ok"), e -> true);
    assertThat(trial).isCompletedWithValue("ok");
    assertThat(cb.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void blockingCallAbandonedByItsCallerFreesTheHalfOpenSlot() throws Exception {
    CircuitBreaker cb = halfOpenWithOnePermittedCall();
    assertThatThrownBy(() -> GuardedCall.runBlocking(cb, () -> {
      throw new CancellationException("caller went away");
    }, e -> true)).isInstanceOf(CancellationException.class);
    assertThat(cb.getState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);

    assertThat(GuardedCall.runBlocking(cb, () -> "ok", e -> true)).isEqualTo("ok");
    assertThat(cb.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void timedOutCallCountsAsFailureAndReopens() {
    CircuitBreaker cb = halfOpenWithOnePermittedCall();
    CompletableFuture<String> call = GuardedCall.run(cb,
        () -> CompletableFuture.<String>failedFuture(new TimeoutException("slow tier")), e -> true);
    assertThat(call).isCompletedExceptionally();
    assertThat(cb.getState()).isEqualTo(CircuitBreaker.State.OPEN);
  }

  @Test
  void refusedAnswerThatIsNotATierFailureCountsAsSuccess() throws Exception {
    CircuitBreaker cb = halfOpenWithOnePermittedCall();
    try {
      GuardedCall.runBlocking(cb, () -> {
        throw new IllegalArgumentException("bad data, tier fine");
      }, e -> !(e instanceof IllegalArgumentException));
    } catch (IllegalArgumentException expected) {
      // the caller sees the error; the breaker sees a healthy tier
    }
    assertThat(cb.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void openBreakerRejectsWithoutCallingTheTier() {
    CircuitBreaker cb = CircuitBreaker.ofDefaults("open");
    cb.transitionToOpenState();
    boolean[] called = {false};
    CompletableFuture<String> call = GuardedCall.run(cb, () -> {
      called[0] = true;
      return CompletableFuture.completedFuture("x");
    }, e -> true);
    assertThat(call).isCompletedExceptionally();
    assertThat(called[0]).isFalse();
  }
}
