package io.messagestore.server.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class GuardedCallTest {

  static CircuitBreaker halfOpenWithOnePermittedCall() {
    return halfOpenWithOnePermittedCall(e -> true);
  }

  /** @param isTierFailure the breaker's failure rule, as TierBreakers declares one per tier */
  static CircuitBreaker halfOpenWithOnePermittedCall(Predicate<Throwable> isTierFailure) {
    CircuitBreaker cb = CircuitBreaker.of("t", CircuitBreakerConfig.custom()
        .permittedNumberOfCallsInHalfOpenState(1)
        .waitDurationInOpenState(Duration.ofHours(1))
        .recordException(isTierFailure)
        .build());
    cb.transitionToOpenState();
    cb.transitionToHalfOpenState();
    return cb;
  }

  @Test
  void cancelledCallDoesNotLeaveTheBreakerStuckInHalfOpen() {
    CircuitBreaker cb = halfOpenWithOnePermittedCall();
    CompletableFuture<String> never = new CompletableFuture<>();
    CompletableFuture<String> call = GuardedCall.run(cb, () -> never);
    never.cancel(false);
    assertThat(call).isCompletedExceptionally();
    // The one trial slot is free again: a real call can decide the breaker's state.
    CompletableFuture<String> trial = GuardedCall.run(cb, () -> CompletableFuture.completedFuture("ok"));
    assertThat(trial).isCompletedWithValue("ok");
    assertThat(cb.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void blockingCallAbandonedByItsCallerFreesTheHalfOpenSlot() throws Exception {
    CircuitBreaker cb = halfOpenWithOnePermittedCall();
    assertThatThrownBy(() -> GuardedCall.runBlocking(cb, () -> {
      throw new CancellationException("caller went away");
    })).isInstanceOf(CancellationException.class);
    assertThat(cb.getState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);

    assertThat(GuardedCall.runBlocking(cb, () -> "ok")).isEqualTo("ok");
    assertThat(cb.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void timedOutCallCountsAsFailureAndReopens() {
    CircuitBreaker cb = halfOpenWithOnePermittedCall();
    CompletableFuture<String> call = GuardedCall.run(cb,
        () -> CompletableFuture.<String>failedFuture(new TimeoutException("slow tier")));
    assertThat(call).isCompletedExceptionally();
    assertThat(cb.getState()).isEqualTo(CircuitBreaker.State.OPEN);
  }

  @Test
  void refusedAnswerThatIsNotATierFailureCountsAsSuccess() {
    CircuitBreaker cb = halfOpenWithOnePermittedCall(e -> !(e instanceof IllegalArgumentException));
    assertThatThrownBy(() -> GuardedCall.runBlocking(cb, () -> {
      throw new IllegalArgumentException("bad data, tier fine");
    })).as("the caller sees the error").isInstanceOf(IllegalArgumentException.class);
    assertThat(cb.getState()).as("the breaker sees a healthy tier").isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void openBreakerRejectsWithoutCallingTheTier() {
    CircuitBreaker cb = CircuitBreaker.ofDefaults("open");
    cb.transitionToOpenState();
    boolean[] called = {false};
    CompletableFuture<String> call = GuardedCall.run(cb, () -> {
      called[0] = true;
      return CompletableFuture.completedFuture("x");
    });
    assertThat(call).isCompletedExceptionally();
    assertThat(called[0]).isFalse();
  }
}
