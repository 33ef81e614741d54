package io.messagestore.server.resilience;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Runs one tier call under a circuit breaker and reports its outcome exactly once.
 *
 * <p>Resilience4j's decorators report failures and successes, but a call that is cancelled
 * (caller went away) reports neither, and in HALF_OPEN that leaks one of the few permitted calls
 * until the breaker is stuck. Here a cancellation releases the permission instead.
 */
public final class GuardedCall {
  private GuardedCall() {}

  /**
   * @param countsAsFailure which errors mean the tier is unhealthy (others, e.g. a "denied"
   *     answer, are the tier working correctly and count as success)
   */
  public static <T> CompletableFuture<T> run(
      CircuitBreaker breaker, Supplier<? extends CompletionStage<T>> call, Predicate<Throwable> countsAsFailure) {
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
        if (cause instanceof CancellationException) {
          breaker.releasePermission();
        } else if (countsAsFailure.test(cause)) {
          breaker.onError(took, TimeUnit.NANOSECONDS, cause);
        } else {
          breaker.onSuccess(took, TimeUnit.NANOSECONDS);
        }
        result.completeExceptionally(cause);
      }
    });
    return result;
  }

  /** Synchronous variant for blocking tier clients (JDBC, HTTP). */
  public static <T> T runBlocking(CircuitBreaker breaker, BlockingCall<T> call, Predicate<Throwable> countsAsFailure)
      throws Exception {
    if (!breaker.tryAcquirePermission()) {
      throw CallNotPermittedException.createCallNotPermittedException(breaker);
    }
    long start = System.nanoTime();
    try {
      T value = call.call();
      breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      return value;
    } catch (InterruptedException | CancellationException e) {
      // The caller gave up; says nothing about the tier's health.
      breaker.releasePermission();
      throw e;
    } catch (Exception | Error e) {
      if (countsAsFailure.test(e)) {
        breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
      } else {
        breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      }
      throw e;
    }
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
