package io.messagestore.client;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.api.v1.WatchThreadRequest;
import io.messagestore.client.internal.Backoff;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The events of one thread as they happen, from {@link MessageStoreClient#watch}: a blocking
 * iterator that reconnects by itself.
 *
 * <p>When the stream breaks ({@code UNAVAILABLE}, e.g. a gateway restart or a lost
 * connection, or {@code RESOURCE_EXHAUSTED}, a gateway at its watcher limit), the watch opens a
 * new one with {@code after_message_id} set to the last {@code MESSAGE_CONFIRMED} message it
 * received, waiting between attempts as the client's {@link CallType#WATCH_RESUME} policy says
 * (by default 100 ms doubling up to 5 s, with jitter, for ever). With several gateways the new
 * stream goes to one that is up. The server then replays what came after that
 * message, so the reader sees every message once and in order. A confirmation the server
 * repeats anyway is skipped. A watch started without {@code after_message_id} that breaks
 * before its first confirmation resumes with live events only.
 *
 * <p>{@code hasNext()} blocks until an event comes, and returns false once the stream has ended:
 * after {@code THREAD_DELETED}, after the server completed the stream, or after
 * {@link #close()}. Any other failure ({@code PERMISSION_DENIED}, {@code NOT_FOUND},
 * {@code UNAUTHENTICATED}, {@code UNIMPLEMENTED}, ...) is thrown from {@code hasNext()} as a
 * {@link MessageStoreException}. One thread reads the iterator; {@link #close()} may be called
 * from any thread and wakes a blocked reader.
 */
public final class ThreadWatch implements Iterator<ThreadEvent>, AutoCloseable {

  /**
   * The statuses after which the watch reconnects instead of failing, under the default
   * {@link CallType#WATCH_RESUME} policy (which also lists {@code DEADLINE_EXCEEDED}, a status a
   * watch without deadline does not get).
   */
  public static final Set<Status.Code> RESUMABLE =
      EnumSet.of(Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED);

  private final String threadId;
  private final Function<WatchThreadRequest, Iterator<ThreadEvent>> openStream;
  private final RetryPolicy resume;
  private final MessageStoreMetrics metrics;
  private volatile Consumer<MessageStoreException> onReconnect = e -> { };

  private String lastConfirmedId;
  private Context.CancellableContext context;
  private Iterator<ThreadEvent> stream;
  private ThreadEvent next;
  private boolean ended;
  private boolean endAfterNext;
  private int failuresInARow;
  private long reconnects;
  private volatile boolean closed;
  private final CountDownLatch closing = new CountDownLatch(1);

  ThreadWatch(String threadId, String afterMessageId,
      Function<WatchThreadRequest, Iterator<ThreadEvent>> openStream, Duration firstBackoff) {
    this(threadId, afterMessageId, openStream, MessageStoreClientOptions.DEFAULT_WATCH_RESUME
        .toBuilder().initialBackoff(firstBackoff).build(), MessageStoreMetrics.NONE);
  }

  ThreadWatch(String threadId, String afterMessageId,
      Function<WatchThreadRequest, Iterator<ThreadEvent>> openStream, RetryPolicy resume,
      MessageStoreMetrics metrics) {
    this.threadId = Objects.requireNonNull(threadId, "threadId");
    this.lastConfirmedId = afterMessageId == null || afterMessageId.isEmpty() ? null : afterMessageId;
    this.openStream = Objects.requireNonNull(openStream, "openStream");
    this.resume = Objects.requireNonNull(resume, "resume");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
  }

  /**
   * Sets what is told about each reconnection: the failure that broke the stream. Called on the
   * reading thread before the backoff wait. Replaces the previous listener.
   */
  public ThreadWatch onReconnect(Consumer<MessageStoreException> listener) {
    this.onReconnect = Objects.requireNonNull(listener, "listener");
    return this;
  }

  /** The id of the last {@code MESSAGE_CONFIRMED} message received, or null before the first. */
  public String lastConfirmedMessageId() {
    return lastConfirmedId;
  }

  /** How many times the stream was opened again after breaking. */
  public long reconnects() {
    return reconnects;
  }

  /**
   * Blocks until the next event or the end of the stream.
   *
   * @throws MessageStoreException when the stream fails with a status the resume policy does
   *     not retry, or more often in a row than it allows
   */
  @Override
  public boolean hasNext() {
    while (next == null && !ended) {
      if (closed || endAfterNext) {
        end();
        break;
      }
      if (stream == null) {
        open();
      }
      try {
        if (stream.hasNext()) {
          accept(stream.next());
        } else {
          end();
        }
      } catch (StatusRuntimeException e) {
        if (closed) {
          end();
          break;
        }
        MessageStoreException failure =
            new MessageStoreException("WatchThread", e.getStatus(), e, failuresInARow + 1);
        if (!resume.retryableCodes().contains(e.getStatus().getCode())
            || failuresInARow + 1 >= resume.maxAttempts()) {
          end();
          throw failure;
        }
        dropStream();
        reconnects++;
        failuresInARow++;
        try {
          metrics.watchResuming(e.getStatus().getCode());
        } catch (RuntimeException ignored) {
          // A failing metrics sink must not end the watch.
        }
        onReconnect.accept(failure);
        pause(Backoff.delay(resume, failuresInARow));
      }
    }
    return next != null;
  }

  @Override
  public ThreadEvent next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    ThreadEvent event = next;
    next = null;
    return event;
  }

  /** Ends the watch and cancels its stream; a reader blocked in {@code hasNext()} returns false. */
  @Override
  public void close() {
    closed = true;
    closing.countDown();
    Context.CancellableContext current = context;
    if (current != null) {
      current.cancel(null);
    }
  }

  private void accept(ThreadEvent event) {
    failuresInARow = 0;
    if (event.getType() == ThreadEvent.Type.MESSAGE_CONFIRMED) {
      if (lastConfirmedId != null && event.getMessageId().compareTo(lastConfirmedId) <= 0) {
        return; // already delivered before the stream was resumed
      }
      lastConfirmedId = event.getMessageId();
    }
    if (event.getType() == ThreadEvent.Type.THREAD_DELETED) {
      endAfterNext = true;
    }
    next = event;
  }

  private void open() {
    WatchThreadRequest request = WatchThreadRequest.newBuilder()
        .setThreadId(threadId)
        .setAfterMessageId(lastConfirmedId == null ? "" : lastConfirmedId)
        .build();
    // A blocking server stream is cancelled through the context it was started in.
    Context.CancellableContext opened = Context.current().withCancellation();
    context = opened;
    Context previous = opened.attach();
    try {
      stream = openStream.apply(request);
    } finally {
      opened.detach(previous);
    }
    if (closed) {
      opened.cancel(null);
    }
  }

  private void dropStream() {
    if (context != null) {
      context.cancel(null);
    }
    stream = null;
  }

  private void end() {
    ended = true;
    dropStream();
  }

  private void pause(Duration delay) {
    try {
      // Waiting on the latch rather than sleeping lets close() end the wait at once.
      closing.await(delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
    }
  }
}
