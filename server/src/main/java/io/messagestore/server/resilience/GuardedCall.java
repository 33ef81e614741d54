package io.messagestore.server.resilience;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Runs one tier call under a circuit breaker and reports its outcome exactly once.
 *
 * <p>Resilience4j's decorators report failures and successes, but a call that is cancelled
 * (caller went away) reports neither, and in HALF_OPEN that leaks one of the few permitted calls
 * until the breaker is stuck. Here a cancellation (or an interrupted blocking call) releases the
 * permission instead. Every other error goes to the breaker, whose configuration says whether it
 * counts as a failure of the tier ({@link TierBreakers} declares that once per tier).
 */
public final class GuardedCall {
  private GuardedCall() {}

  static <T> CompletableFuture<T> run(CircuitBreaker breaker, Supplier<? extends CompletionStage<T>> call) {
    if (!breaker.tryAcquirePermission()) {
      return CompletableFuture.failedFuture(CallNotPermittedException.createCallNotPermittedException(breaker));
    }
    long start = System.nanoTime();
    CompletionStage<T> stage;
    try {
      stage = call.get();
    } catch (RuntimeException e) {
      breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<T> result = new CompletableFuture<>();
    stage.whenComplete((value, error) -> {
      long took = System.nanoTime() - start;
      Throwable cause = unwrap(error);
      if (cause == null) {
        breaker.onSuccess(took, TimeUnit.NANOSECONDS);
        result.complete(value);
      } else {
        if (abandoned(cause)) {
          breaker.releasePermission();
        } else {
          breaker.onError(took, TimeUnit.NANOSECONDS, cause);
        }
        result.completeExceptionally(cause);
      }
    });
    return result;
  }

  /** Synchronous variant for blocking tier clients (JDBC, HTTP). */
  static <T> T runBlocking(CircuitBreaker breaker, BlockingCall<T> call) throws Exception {
    if (!breaker.tryAcquirePermission()) {
      throw CallNotPermittedException.createCallNotPermittedException(breaker);
    }
    long start = System.nanoTime();
    try {
      T value = call.call();
      breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      return value;
    } catch (Exception | Error e) {
      if (abandoned(e)) {
        breaker.releasePermission();
      } else {
        breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
      }
      throw e;
    }
  }

  /** The caller gave up: that says nothing about the tier's health. */
  private static boolean abandoned(Throwable e) {
    return e instanceof CancellationException || e instanceof InterruptedException;
  }

  public static Throwable unwrap(Throwable t) {
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** A blocking call that may throw. */
  @FunctionalInterface
  public interface BlockingCall<T> {
    T call() throws Exception;
  }
}
