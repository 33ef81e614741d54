package io.messagestore.client.internal;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.messagestore.api.v1.MessageStoreGrpc.MessageStoreStub;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.api.v1.WatchThreadRequest;
import io.messagestore.client.MessageStoreException;
import io.messagestore.client.MessageStoreMetrics;
import io.messagestore.client.RetryPolicy;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A thread's events as a {@link Flow.Publisher} that resumes itself: each subscription is one
 * watch, opened at subscription, whose broken streams are reopened after the last
 * {@code MESSAGE_CONFIRMED} it delivered (same rules as the blocking {@code ThreadWatch}).
 * Demand goes straight through to gRPC's flow control, so a slow subscriber holds the
 * gateway's stream back instead of filling this JVM's heap.
 */
public final class WatchPublisher implements Flow.Publisher<ThreadEvent> {
  private final String threadId;
  private final String afterMessageId;
  private final MessageStoreStub stub;
  private final RetryPolicy resume;
  private final MessageStoreMetrics metrics;
  private final BooleanSupplier closed;

  /**
   * @param afterMessageId where the first stream starts; null or "" for live events only
   * @param stub the async stub, with the client's credentials
   * @param resume how often and how fast broken streams are reopened
   */
  public WatchPublisher(String threadId, String afterMessageId, MessageStoreStub stub,
      RetryPolicy resume, MessageStoreMetrics metrics, BooleanSupplier closed) {
    this.threadId = Objects.requireNonNull(threadId, "threadId");
    this.afterMessageId = afterMessageId == null || afterMessageId.isEmpty() ? null : afterMessageId;
    this.stub = Objects.requireNonNull(stub, "stub");
    this.resume = Objects.requireNonNull(resume, "resume");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.closed = Objects.requireNonNull(closed, "closed");
  }

  @Override
  public void subscribe(Flow.Subscriber<? super ThreadEvent> subscriber) {
    Objects.requireNonNull(subscriber, "subscriber");
    Watch watch = new Watch(subscriber);
    subscriber.onSubscribe(watch);
    watch.open();
  }

  private final class Watch implements Flow.Subscription {
    private final Flow.Subscriber<? super ThreadEvent> subscriber;
    private final Object lock = new Object();
    /** Events the subscriber asked for and did not get yet. */
    private long demand;
    /** The stream in flight; null between streams. */
    private Stream active;
    /** The active stream's call once it has started (only a started call takes request()). */
    private ClientCallStreamObserver<WatchThreadRequest> call;
    private String lastConfirmedId = afterMessageId;
    private int failuresInARow;
    private boolean done;

    Watch(Flow.Subscriber<? super ThreadEvent> subscriber) {
      this.subscriber = subscriber;
    }

    @Override
    public void request(long n) {
      if (n <= 0) {
        // Reactive Streams rule 3.9.
        fail(new IllegalArgumentException("request must be positive, got " + n));
        return;
      }
      ClientCallStreamObserver<WatchThreadRequest> current;
      synchronized (lock) {
        if (done) {
          return;
        }
        demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
        current = call;
      }
      if (current != null) {
        current.request((int) Math.min(n, Integer.MAX_VALUE));
      }
    }

    @Override
    public void cancel() {
      ClientCallStreamObserver<WatchThreadRequest> current;
      synchronized (lock) {
        done = true;
        current = active == null ? null : active.call;
        active = null;
        call = null;
      }
      if (current != null) {
        current.cancel("watch cancelled by its subscriber", null);
      }
    }

    void open() {
      WatchThreadRequest request;
      Stream stream = new Stream();
      synchronized (lock) {
        if (done) {
          return;
        }
        request = WatchThreadRequest.newBuilder().setThreadId(threadId)
            .setAfterMessageId(lastConfirmedId == null ? "" : lastConfirmedId).build();
        active = stream;
      }
      try {
        stub.watchThread(request, stream);
      } catch (RuntimeException e) {
        fail(e);
        return;
      }
      ClientCallStreamObserver<WatchThreadRequest> started = stream.call;
      long wanted;
      synchronized (lock) {
        if (done) {
          started.cancel("watch cancelled by its subscriber", null);
          return;
        }
        if (active != stream) {
          return; // it already failed, and ended() took care of what comes next
        }
        // Only a started call takes request(); until here demand only grew the counter.
        call = started;
        wanted = demand;
      }
      if (wanted > 0) {
        started.request((int) Math.min(wanted, Integer.MAX_VALUE));
      }
    }

    private void deliver(Stream from, ThreadEvent event) {
      boolean last;
      synchronized (lock) {
        if (done || active != from) {
          return;
        }
        failuresInARow = 0;
        if (event.getType() == ThreadEvent.Type.MESSAGE_CONFIRMED) {
          if (lastConfirmedId != null && event.getMessageId().compareTo(lastConfirmedId) <= 0) {
            // Delivered before the stream was resumed: not passed on, so not counted as demand.
            from.call.request(1);
            return;
          }
          lastConfirmedId = event.getMessageId();
        }
        demand--;
        last = event.getType() == ThreadEvent.Type.THREAD_DELETED;
        if (last) {
          done = true;
          active = null;
          call = null;
        }
      }
      subscriber.onNext(event);
      if (last) {
        from.call.cancel("thread deleted", null);
        subscriber.onComplete();
      }
    }

    private void ended(Stream from, Throwable failure) {
      Status status = failure == null ? Status.OK : Status.fromThrowable(failure);
      Duration pause = null;
      synchronized (lock) {
        if (done || active != from) {
          return;
        }
        active = null;
        call = null;
        if (failure != null && !closed.getAsBoolean()
            && resume.retryableCodes().contains(status.getCode())
            && failuresInARow + 1 < resume.maxAttempts()) {
          failuresInARow++;
          pause = Backoff.delay(resume, failuresInARow);
        } else {
          done = true;
        }
      }
      if (pause != null) {
        try {
          metrics.watchResuming(status.getCode());
        } catch (RuntimeException ignored) {
          // A failing metrics sink must not end the watch.
        }
        Backoff.timer().schedule(this::open, pause.toNanos(), TimeUnit.NANOSECONDS);
      } else if (failure == null) {
        subscriber.onComplete();
      } else {
        subscriber.onError(new MessageStoreException("WatchThread", status, failure, failuresInARow + 1));
      }
    }

    private void fail(Throwable failure) {
      ClientCallStreamObserver<WatchThreadRequest> current;
      synchronized (lock) {
        if (done) {
          return;
        }
        done = true;
        current = active == null ? null : active.call;
        active = null;
        call = null;
      }
      if (current != null) {
        current.cancel("watch failed", failure);
      }
      subscriber.onError(failure);
    }

    /** One stream of the watch; a resumed watch has a new one. */
    private final class Stream implements ClientResponseObserver<WatchThreadRequest, ThreadEvent> {
      private volatile ClientCallStreamObserver<WatchThreadRequest> call;

      @Override
      public void beforeStart(ClientCallStreamObserver<WatchThreadRequest> requestStream) {
        call = requestStream;
        requestStream.disableAutoRequestWithInitial(0);
      }

      @Override
      public void onNext(ThreadEvent event) {
        deliver(this, event);
      }

      @Override
      public void onError(Throwable t) {
        ended(this, t);
      }

      @Override
      public void onCompleted() {
        ended(this, null);
      }
    }
  }
}
