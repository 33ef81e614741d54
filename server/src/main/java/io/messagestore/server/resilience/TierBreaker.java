package io.messagestore.server.resilience;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.messagestore.server.error.StoreError;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The circuit breaker of one tier in one direction (e.g. {@code postgres-read}), handed out by
 * {@link TierBreakers}. What counts as a failure of the tier was declared when it was built, so
 * a call site only says what to run.
 */
public final class TierBreaker {
  private final CircuitBreaker breaker;
  private final String tier;
  private final Predicate<Throwable> refusesValue;

  TierBreaker(CircuitBreaker breaker, String tier, Predicate<Throwable> refusesValue) {
    this.breaker = breaker;
    this.tier = tier;
    this.refusesValue = refusesValue;
  }

  /** E.g. {@code redis-read}: the name in metrics, logs and GetTierStatus. */
  public String name() {
    return breaker.getName();
  }

  public CircuitBreaker.State state() {
    return breaker.getState();
  }

  public boolean isClosed() {
    return breaker.getState() == CircuitBreaker.State.CLOSED;
  }

  /** Runs an asynchronous tier call under the breaker (see {@link GuardedCall}). */
  public <T> CompletableFuture<T> call(Supplier<? extends CompletionStage<T>> call) {
    return GuardedCall.run(breaker, call);
  }

  /** Runs a blocking tier call (JDBC, HTTP) under the breaker (see {@link GuardedCall}). */
  public <T> T callBlocking(GuardedCall.BlockingCall<T> call) throws Exception {
    return GuardedCall.runBlocking(breaker, call);
  }

  /**
   * Whether a call would be let through now, without making one: a look that takes no permission
   * (in HALF_OPEN the few trial calls are the real ones).
   */
  public boolean wouldPermit() {
    if (!breaker.tryAcquirePermission()) {
      return false;
    }
    breaker.releasePermission();
    return true;
  }

  /** Runs {@code action} whenever the breaker closes (the tier is healthy again). */
  public void whenClosed(Runnable action) {
    breaker.getEventPublisher().onStateTransition(e -> {
      if (e.getStateTransition().getToState() == CircuitBreaker.State.CLOSED) {
        action.run();
      }
    });
  }

  /** Whether {@code failure} is this tier refusing a value of the request: the caller's fault. */
  public boolean refusesValue(Throwable failure) {
    Throwable c = GuardedCall.unwrap(failure);
    return !(c instanceof StoreError) && refusesValue.test(c);
  }

  /**
   * What a failed call through this breaker tells the caller: the failure itself when it is the
   * server's own answer ({@link StoreError}); INVALID_ARGUMENT when the tier refused a value of
   * the request; else the tier is unavailable.
   *
   * @param context why the tier was needed, or null
   */
  public StoreError explain(Throwable failure, String context) {
    Throwable c = GuardedCall.unwrap(failure);
    if (refusesValue(c)) {
      return new StoreError.Invalid(tier + " refused a value of the request: " + StoreError.describe(c), c);
    }
    return StoreError.TierUnavailable.of(tier, c, context);
  }

  @Override
  public String toString() {
    return name() + " (" + state() + ")";
  }
}
