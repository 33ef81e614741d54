package io.messagestore.client;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.api.v1.WatchThreadRequest;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The events of one thread as they happen, from {@link MessageStoreClient#watch}: a blocking
 * iterator that reconnects by itself.
 *
 * <p>When the stream breaks ({@code UNAVAILABLE}, e.g. a gateway restart or a lost
 * connection, or {@code RESOURCE_EXHAUSTED}, a gateway ending the stream of a reader that fell
 * too far behind), the watch opens a new one with {@code after_message_id} set to the last
 * {@code MESSAGE_CONFIRMED} message it received, waiting between attempts with exponential
 * backoff and jitter (100 ms doubling up to 5 s). The server then replays what came after that
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

  /** The statuses after which the watch reconnects instead of failing. */
  public static final Set<Status.Code> RESUMABLE =
      EnumSet.of(Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED);

  static final Duration DEFAULT_FIRST_BACKOFF = Duration.ofMillis(100);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  private final String threadId;
  private final Function<WatchThreadRequest, Iterator<ThreadEvent>> openStream;
  private final Duration firstBackoff;
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
    this.threadId = Objects.requireNonNull(threadId, "threadId");
    this.lastConfirmedId = afterMessageId == null || afterMessageId.isEmpty() ? null : afterMessageId;
    this.openStream = Objects.requireNonNull(openStream, "openStream");
    this.firstBackoff = Objects.requireNonNull(firstBackoff, "firstBackoff");
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
   * @throws MessageStoreException when the stream fails with a status that is not
   *     {@linkplain #RESUMABLE resumable}
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
        MessageStoreException failure = new MessageStoreException("WatchThread", e.getStatus(), e);
        if (!RESUMABLE.contains(e.getStatus().getCode())) {
          end();
          throw failure;
        }
        dropStream();
        reconnects++;
        onReconnect.accept(failure);
        pause(backoff(failuresInARow++));
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

  private Duration backoff(int failures) {
    long cap = Math.min(MAX_BACKOFF.toMillis(), firstBackoff.toMillis() << Math.min(failures, 16));
    // Jitter spreads the reconnections of many watchers that lost the same gateway.
    return Duration.ofMillis(cap / 2 + ThreadLocalRandom.current().nextLong(cap / 2 + 1));
  }

  private void pause(Duration delay) {
    try {
      // Waiting on the latch rather than sleeping lets close() end the wait at once.
      closing.await(delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
    }
  }
}
