package io.messagestore.server.api.grpc;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.resilience.GuardedCall;
import io.messagestore.server.watch.WatchStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bridges the gateway's futures to gRPC responses, turning every failure into a described status:
 * the one place where the server's errors ({@link StoreError}) become gRPC status codes.
 */
final class Replies {
  private static final Logger log = LoggerFactory.getLogger(Replies.class);

  private Replies() {}

  /** Time left before the caller's deadline, or null when it set none. */
  static Duration timeLeft() {
    Deadline d = Context.current().getDeadline();
    return d == null ? null : Duration.ofNanos(Math.max(0, d.timeRemaining(TimeUnit.NANOSECONDS)));
  }

  static <T> void reply(StreamObserver<T> observer, Supplier<CompletableFuture<T>> work) {
    CompletableFuture<T> future;
    try {
      future = work.get();
    } catch (RuntimeException e) {
      observer.onError(toStatus(e));
      return;
    }
    // A caller that goes away (cancel, deadline) stops waiting on its behalf.
    Context.current().addListener(ctx -> future.cancel(false), Runnable::run);
    future.whenComplete((value, error) -> {
      if (error == null) {
        observer.onNext(value);
        observer.onCompleted();
      } else {
        observer.onError(toStatus(error));
      }
    });
  }

  static StatusRuntimeException toStatus(Throwable t) {
    Throwable c = GuardedCall.unwrap(t);
    if (c instanceof StoreError e) {
      return code(e).withDescription(e.description()).asRuntimeException();
    }
    if (c instanceof StatusRuntimeException s) {
      return s;
    }
    if (c instanceof io.grpc.StatusException s) {
      return s.getStatus().asRuntimeException(s.getTrailers());
    }
    if (c instanceof java.util.concurrent.CancellationException) {
      return Status.CANCELLED.withDescription("call cancelled by the caller").asRuntimeException();
    }
    if (c instanceof CallNotPermittedException) {
      return Status.UNAVAILABLE.withDescription(c.getMessage()).asRuntimeException();
    }
    log.error("unexpected failure", c);
    return Status.INTERNAL.withDescription("unexpected " + c.getClass().getSimpleName() + ": " + c.getMessage())
        .withCause(c).asRuntimeException();
  }

  /** The gRPC status of each kind of {@link StoreError}. */
  static Status code(StoreError e) {
    if (e instanceof StoreError.Invalid) {
      return Status.INVALID_ARGUMENT;
    }
    if (e instanceof StoreError.Denied) {
      return Status.PERMISSION_DENIED;
    }
    if (e instanceof StoreError.NotFound) {
      return Status.NOT_FOUND;
    }
    if (e instanceof StoreError.Conflict) {
      return Status.ABORTED;
    }
    if (e instanceof StoreError.Exhausted) {
      return Status.RESOURCE_EXHAUSTED;
    }
    if (e instanceof StoreError.Cancelled) {
      return Status.CANCELLED;
    }
    if (e instanceof StoreError.TierUnavailable) {
      return Status.UNAVAILABLE;
    }
    throw new IllegalStateException("a StoreError without a status: " + e.getClass());
  }

  /**
   * The caller's end of a WatchThread stream. gRPC takes the ready and cancel handlers only
   * while the service method runs, so they are set here, at once, and call the watch's hooks
   * once it has set them (a cancel that came first runs the hook as soon as it is set).
   */
  static WatchStream watchStream(StreamObserver<ThreadEvent> observer) {
    ServerCallStreamObserver<ThreadEvent> call = (ServerCallStreamObserver<ThreadEvent>) observer;
    return new WatchStream() {
      private volatile Runnable ready = () -> { };
      private Runnable cancel;
      private boolean cancelled;

      {
        call.setOnReadyHandler(() -> ready.run());
        call.setOnCancelHandler(this::cancelled);
      }

      private void cancelled() {
        Runnable r;
        synchronized (this) {
          cancelled = true;
          r = cancel;
        }
        if (r != null) {
          r.run();
        }
      }

      @Override
      public boolean isReady() {
        return call.isReady();
      }

      @Override
      public void send(ThreadEvent event) {
        call.onNext(event);
      }

      @Override
      public void complete() {
        call.onCompleted();
      }

      @Override
      public void fail(RuntimeException error) {
        call.onError(toStatus(error));
      }

      @Override
      public void onReady(Runnable r) {
        ready = r;
      }

      @Override
      public void onCancel(Runnable r) {
        boolean already;
        synchronized (this) {
          cancel = r;
          already = cancelled;
        }
        if (already) {
          r.run();
        }
      }
    };
  }
}
