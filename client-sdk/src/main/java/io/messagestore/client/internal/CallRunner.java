package io.messagestore.client.internal;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.Deadline;
import io.grpc.Status;
import io.messagestore.client.MessageStoreException;
import io.messagestore.client.MessageStoreMetrics;
import io.messagestore.client.RetryPolicy;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Runs one logical unary call the way every MessageStore client call runs: refused once the
 * client is closed, each attempt with a fresh deadline (cut short by the policy's total
 * deadline), failed attempts retried as the {@link RetryPolicy} says, and a final failure
 * turned into a {@link MessageStoreException} naming the RPC and the attempts.
 *
 * <p>The blocking view waits for the same futures ({@link #await}), so both views share one
 * retry implementation.
 */
public final class CallRunner {
  private final Duration attemptDeadline;
  private final MessageStoreMetrics metrics;
  private final BooleanSupplier closed;

  /**
   * @param attemptDeadline the deadline of each attempt, counted from its start
   * @param metrics where calls and retries are reported
   * @param closed tells whether the owning client was closed
   */
  public CallRunner(Duration attemptDeadline, MessageStoreMetrics metrics, BooleanSupplier closed) {
    this.attemptDeadline = Objects.requireNonNull(attemptDeadline, "attemptDeadline");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.closed = Objects.requireNonNull(closed, "closed");
  }

  /** The metrics sink, for the watches that share this runner's client. */
  public MessageStoreMetrics metrics() {
    return metrics;
  }

  /**
   * Starts the call's first attempt.
   *
   * @param attempt starts one attempt with the given deadline, e.g. {@code d ->
   *     stub.withDeadline(d).sendMessage(request)}; called once per attempt, so every attempt
   *     must send the same request
   * @return completes with the answer, or exceptionally with a {@link MessageStoreException};
   *     cancelling it cancels the attempt in flight and any further one
   * @throws IllegalStateException if the client is closed
   */
  public <T> CompletableFuture<T> call(String rpc, RetryPolicy policy,
      Function<Deadline, ListenableFuture<T>> attempt) {
    checkOpen();
    Attempts<T> attempts = new Attempts<>(rpc, policy, attempt);
    attempts.next();
    return attempts.result;
  }

  /**
   * Waits for a call started by {@link #call} as the blocking view does.
   *
   * @throws MessageStoreException how the call failed; {@code CANCELLED} if the waiting thread
   *     is interrupted (the call is cancelled and the interrupt flag kept)
   */
  public static <T> T await(String rpc, CompletableFuture<T> call) {
    try {
      return call.get();
    } catch (InterruptedException e) {
      call.cancel(true);
      Thread.currentThread().interrupt();
      throw new MessageStoreException(rpc, Status.CANCELLED.withDescription("interrupted"), e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r && !(cause instanceof CompletionException)
          && !(cause instanceof MessageStoreException)) {
        throw r; // the caller's own code failed (an update function): theirs, unchanged
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw unwrap(rpc, cause);
    }
  }

  /**
   * {@code source.thenApply(fn)}, except that cancelling the result cancels {@code source} (and
   * so the call and its retries), which {@code thenApply} alone does not do.
   */
  public static <A, B> CompletableFuture<B> map(CompletableFuture<A> source, Function<A, B> fn) {
    CompletableFuture<B> result = new CompletableFuture<>();
    source.whenComplete((value, failure) -> {
      if (failure != null) {
        result.completeExceptionally(failure);
        return;
      }
      try {
        result.complete(fn.apply(value));
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
      }
    });
    result.whenComplete((value, failure) -> {
      if (result.isCancelled()) {
        source.cancel(true);
      }
    });
    return result;
  }

  /** The {@link MessageStoreException} a failed call future holds, whatever wraps it. */
  public static MessageStoreException unwrap(String rpc, Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof MessageStoreException e) {
      return e;
    }
    if (cause instanceof CancellationException) {
      return new MessageStoreException(rpc, Status.CANCELLED.withDescription("cancelled"), cause);
    }
    return new MessageStoreException(rpc, Status.fromThrowable(cause), cause);
  }

  private void checkOpen() {
    if (closed.getAsBoolean()) {
      throw new IllegalStateException("MessageStoreClient is closed");
    }
  }

  /** The attempts of one logical call; each one starts after the previous one failed. */
  private final class Attempts<T> {
    final CompletableFuture<T> result = new CompletableFuture<>();
    final String rpc;
    final RetryPolicy policy;
    final Function<Deadline, ListenableFuture<T>> attempt;
    final long startNanos = System.nanoTime();
    final Deadline total;
    int made;
    volatile ListenableFuture<T> inFlight;

    Attempts(String rpc, RetryPolicy policy, Function<Deadline, ListenableFuture<T>> attempt) {
      this.rpc = rpc;
      this.policy = policy;
      this.attempt = attempt;
      this.total = policy.totalDeadline().map(d -> Deadline.after(nanos(d), TimeUnit.NANOSECONDS))
          .orElse(null);
      result.whenComplete((value, failure) -> {
        ListenableFuture<T> current = inFlight;
        if (result.isCancelled() && current != null) {
          current.cancel(true);
        }
      });
    }

    void next() {
      if (result.isDone()) {
        return;
      }
      made++;
      Deadline deadline = Deadline.after(nanos(attemptDeadline), TimeUnit.NANOSECONDS);
      if (total != null) {
        deadline = deadline.minimum(total);
      }
      ListenableFuture<T> current;
      try {
        current = attempt.apply(deadline);
      } catch (RuntimeException e) {
        finish(null, e);
        return;
      }
      inFlight = current;
      current.addListener(() -> attemptEnded(current), MoreExecutors.directExecutor());
      if (result.isCancelled()) {
        current.cancel(true);
      }
    }

    void attemptEnded(ListenableFuture<T> current) {
      T value;
      try {
        value = current.get();
      } catch (ExecutionException | CancellationException e) {
        failed(e instanceof ExecutionException ? e.getCause() : e);
        return;
      } catch (InterruptedException e) {
        // A listener of a done future does not wait, so this cannot happen; keep the flag.
        Thread.currentThread().interrupt();
        failed(e);
        return;
      }
      finish(value, null);
    }

    void failed(Throwable failure) {
      Status status = Status.fromThrowable(failure);
      if (result.isDone()) {
        return;
      }
      Duration pause = retryPause(status.getCode());
      if (pause == null) {
        finish(null, failure);
        return;
      }
      report(() -> metrics.retrying(rpc, status.getCode(), pause));
      Backoff.timer().schedule(this::next, pause.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The pause before the next attempt, or null when there is to be none. */
    Duration retryPause(Status.Code code) {
      if (closed.getAsBoolean() || made >= policy.maxAttempts()
          || !policy.retryableCodes().contains(code)) {
        return null;
      }
      Duration pause = Backoff.delay(policy, made);
      // A pause that ends past the total deadline would only start an attempt with no time.
      if (total != null && total.timeRemaining(TimeUnit.NANOSECONDS) <= pause.toNanos()) {
        return null;
      }
      return pause;
    }

    void finish(T value, Throwable failure) {
      Duration took = Duration.ofNanos(System.nanoTime() - startNanos);
      if (failure == null) {
        report(() -> metrics.callEnded(rpc, Status.Code.OK, took, made));
        result.complete(value);
        return;
      }
      Status status = Status.fromThrowable(failure);
      report(() -> metrics.callEnded(rpc, status.getCode(), took, made));
      result.completeExceptionally(failure instanceof MessageStoreException e ? e
          : new MessageStoreException(rpc, status, failure, made));
    }
  }

  private static void report(Runnable metric) {
    try {
      metric.run();
    } catch (RuntimeException ignored) {
      // A metrics sink that throws must not turn a call's outcome into a different one.
    }
  }

  private static long nanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException tooLong) {
      return Long.MAX_VALUE;
    }
  }
}
