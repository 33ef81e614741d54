package io.messagestore.server.watch;

import com.google.protobuf.Timestamp;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.api.v1.ThreadEvent.Type;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.read.ReadPath;
import io.messagestore.server.resilience.GuardedCall;
import io.messagestore.server.write.MessageIdGenerator;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WatchThread stream. Its position is the id of the last message it has queued for the
 * caller; it never queues a message at or below it, so nothing is sent twice, and it takes the
 * next message live only when the announcement names the position as its predecessor
 * ({@link ThreadChannel.Confirmed#previousId()}), so nothing is skipped. Any other case (a
 * missed announcement, a resubscription, a caller too slow to keep up) makes it <em>behind</em>:
 * it reads the thread after its position from storage, a page at a time, whichever tier holds
 * it, then goes on with the announcements held meanwhile. Since a thread's ids grow in the order
 * its messages are accepted ({@code send.lua}), what is after the position in storage is exactly
 * what the caller has not seen.
 *
 * <p>Memory is bounded per stream: at most {@link #MAX_QUEUED} events wait for a slow caller,
 * and a page is read only once they are gone and the stream is ready again; what a slow caller
 * misses meanwhile stays in storage.
 *
 * <p>{@code MESSAGE_PERSISTED} follows every confirmed message: from the persisters'
 * announcement, or from the periodic check of the ones not yet announced ({@link Watches}).
 * All state is guarded by the instance's lock; events go out under it, in order.
 */
final class ThreadWatch implements ThreadChannels.Listener {
  private static final Logger log = LoggerFactory.getLogger(ThreadWatch.class);
  static final int PAGE = 100;
  static final int MAX_QUEUED = 256;
  /** Messages sent but not yet known persisted; past it the oldest go unreported. */
  static final int MAX_UNPERSISTED = 10_000;
  /** How far behind its position a watch looks again for messages written around Redis. */
  static final long BACKFILL_MILLIS = 60_000;
  /** Ids last sent, so that looking again sends none twice: more than a minute of a busy thread. */
  static final int MAX_RECENTLY_SENT = 4_096;

  /** Storage reads of the thread: a page after an id, oldest first. */
  interface Pages {
    CompletableFuture<ReadPath.ThreadPage> after(String threadId, String afterId, int pageSize);
  }

  private final String threadId;
  private final WatchStream stream;
  private final Pages pages;
  private final BooleanSupplier announcementsArrive;
  private final Executor executor;
  private final WatchMetrics metrics;
  private final Clock clock;
  private final Runnable onEnd;

  private String position;
  /** Where the watch started: the caller has what is at or below it. */
  private final String start;
  private final ArrayDeque<Outgoing> queue = new ArrayDeque<>();
  private final List<ThreadChannel.Confirmed> heldDuringRead = new ArrayList<>();
  private final Map<String, Long> unpersisted = new LinkedHashMap<>();
  private final Set<String> recentlySent = new LinkedHashSet<>();
  /** While looking again behind the position: where the next page starts; null otherwise. */
  private String backfillFrom;
  /** Where the read under way started. */
  private String readAfter;
  /** Counts writes around Redis heard of: one heard during a read asks for another look back. */
  private long writesAroundRedis;
  private long writesAroundRedisAtRead;
  private boolean behind;
  private boolean reading;
  private long noReadBefore;
  private boolean ending;
  private boolean closed;

  /** A queued event, and whether it was announced (its delay is measured) or read from storage. */
  private record Outgoing(ThreadEvent event, boolean live) {}

  ThreadWatch(String threadId, String position, WatchStream stream, Pages pages, BooleanSupplier announcementsArrive,
      Executor executor, WatchMetrics metrics, Clock clock, Runnable onEnd) {
    this.threadId = threadId;
    this.position = position;
    this.start = position;
    this.stream = stream;
    this.pages = pages;
    this.announcementsArrive = announcementsArrive;
    this.executor = executor;
    this.metrics = metrics;
    this.clock = clock;
    this.onEnd = onEnd;
    // Until the channel is subscribed nothing is known to be live: start by reading.
    this.behind = true;
  }

  String threadId() {
    return threadId;
  }

  @Override
  public synchronized void changed(ThreadChannel.Change change) {
    if (closed || ending) {
      return;
    }
    if (change instanceof ThreadChannel.Confirmed c) {
      if (!reading) {
        confirmed(c);
      } else if (heldDuringRead.size() < MAX_QUEUED) {
        heldDuringRead.add(c);
      } else {
        heldDuringRead.clear();
        behind = true;
      }
    } else if (change instanceof ThreadChannel.Persisted p) {
      for (String id : p.messageIds()) {
        // Not yet sent: the storage check reports it once it has been sent.
        if (unpersisted.containsKey(id) && queue.size() < MAX_QUEUED) {
          unpersisted.remove(id);
          queue.add(new Outgoing(event(Type.MESSAGE_PERSISTED, id), false));
        }
      }
    } else if (change instanceof ThreadChannel.Archived a) {
      for (String id : a.messageIds()) {
        if (id.compareTo(position) > 0 || queue.size() >= MAX_QUEUED) {
          continue;
        }
        // Archived implies committed: one whose commit was not reported yet is reported now,
        // and so not again by the storage check.
        if (unpersisted.remove(id) != null) {
          queue.add(new Outgoing(event(Type.MESSAGE_PERSISTED, id), false));
        }
        queue.add(new Outgoing(event(Type.MESSAGE_ARCHIVED, id), false));
      }
    } else if (change instanceof ThreadChannel.Deleted) {
      deleted();
    }
    pump();
  }

  @Override
  public synchronized void resync() {
    if (!behind && !reading) {
      metrics.fellBehind("resubscribed");
    }
    behind = true;
    pump();
  }

  /**
   * Messages of the thread were committed without Redis. Nothing announced them, and their ids
   * may lie behind the position (minted before a message that Redis took first): the watch
   * reads again from a minute behind its position and sends those it has not sent, late and out
   * of order rather than never.
   */
  @Override
  public synchronized void writtenAroundRedis() {
    if (closed || ending) {
      return;
    }
    long positionMillis = position.isEmpty() ? 0 : MessageIdGenerator.millisOf(UUID.fromString(position));
    String from = MessageIdGenerator.firstIdAt(Math.max(0, positionMillis - BACKFILL_MILLIS));
    if (backfillFrom == null || from.compareTo(backfillFrom) < 0) {
      backfillFrom = position.isEmpty() ? "" : from;
    }
    writesAroundRedis++;
    behind = true;
    pump();
  }

  /** The stream can take more (or a read may be due): send what is queued, read when behind. */
  synchronized void pump() {
    if (closed) {
      return;
    }
    while (!queue.isEmpty() && stream.isReady()) {
      Outgoing o = queue.poll();
      stream.send(o.event());
      metrics.delivered(o.event(), o.live(), clock.millis());
    }
    if (!queue.isEmpty()) {
      return;
    }
    if (ending) {
      close();
      stream.complete();
      return;
    }
    // With announcements not arriving (Redis away), storage without Redis can lack messages
    // that Redis acknowledged: reading on would skip them for good. The watch waits instead.
    if (behind && !reading && stream.isReady() && announcementsArrive.getAsBoolean()
        && clock.millis() >= noReadBefore) {
      reading = true;
      behind = false;
      readAfter = backfillFrom != null ? backfillFrom : position;
      writesAroundRedisAtRead = writesAroundRedis;
      pages.after(threadId, readAfter, PAGE).whenCompleteAsync(this::pageRead, executor);
    }
  }

  private synchronized void pageRead(ReadPath.ThreadPage page, Throwable error) {
    reading = false;
    if (closed) {
      return;
    }
    List<ThreadChannel.Confirmed> held = List.copyOf(heldDuringRead);
    heldDuringRead.clear();
    if (error != null) {
      Throwable cause = GuardedCall.unwrap(error);
      if (cause instanceof StoreError.NotFound || cause instanceof StoreError.Denied) {
        // Deleted while the announcement was missed (and maybe claimed again by someone else).
        deleted();
      } else {
        log.debug("watch of {} could not read after {}, again in a second: {}", threadId, readAfter,
            StoreError.describe(cause));
        behind = true;
        noReadBefore = clock.millis() + 1000;
      }
      pump();
      return;
    }
    for (Message m : page.messages()) {
      if (m.getMessageId().compareTo(position) > 0) {
        queueConfirmed(ThreadChannel.confirmedEvent(m), false);
      } else if (backfillFrom != null && m.getMessageId().compareTo(start) > 0
          && !recentlySent.contains(m.getMessageId())) {
        queueConfirmed(ThreadChannel.confirmedEvent(m), false);
      }
    }
    // Whatever made the watch behind while the page was read (a resubscription, announcements
    // past what can be held, a write around Redis) happened after the read began: the page may
    // predate it, so it asks for another read.
    behind |= page.more();
    if (backfillFrom != null && (!backfillFrom.equals(readAfter) || writesAroundRedis != writesAroundRedisAtRead)) {
      // Another write around Redis while the page was read: look back again from where it says.
      behind = true;
    } else if (backfillFrom != null) {
      List<Message> read = page.messages();
      String last = read.isEmpty() ? position : read.get(read.size() - 1).getMessageId();
      // Done once a page reaches the position: reading on after the position is the usual read.
      backfillFrom = page.more() && last.compareTo(position) < 0 ? last : null;
    }
    for (ThreadChannel.Confirmed c : held) {
      confirmed(c);
    }
    pump();
  }

  private void confirmed(ThreadChannel.Confirmed c) {
    String id = c.message().getMessageId();
    if (id.compareTo(position) <= 0) {
      return;
    }
    if (!behind && position.equals(c.previousId()) && queue.size() < MAX_QUEUED) {
      queueConfirmed(c.event(), true);
      return;
    }
    if (!behind) {
      metrics.fellBehind(queue.size() >= MAX_QUEUED ? "slow_reader" : "missed_announcement");
    }
    behind = true;
  }

  private void queueConfirmed(ThreadEvent confirmed, boolean live) {
    String id = confirmed.getMessageId();
    if (id.compareTo(position) > 0) {
      position = id;
    }
    recentlySent.add(id);
    if (recentlySent.size() > MAX_RECENTLY_SENT) {
      Iterator<String> eldest = recentlySent.iterator();
      eldest.next();
      eldest.remove();
    }
    queue.add(new Outgoing(confirmed, live));
    unpersisted.put(id, clock.millis());
    if (unpersisted.size() > MAX_UNPERSISTED) {
      Iterator<String> eldest = unpersisted.keySet().iterator();
      eldest.next();
      eldest.remove();
      metrics.unreportedPersisted();
    }
  }

  private void deleted() {
    queue.add(new Outgoing(event(Type.THREAD_DELETED, ""), false));
    ending = true;
    behind = false;
    heldDuringRead.clear();
  }

  /** Ids sent before {@code sentBeforeMillis} whose commit has not been reported. */
  synchronized List<String> unpersistedSentBefore(long sentBeforeMillis) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, Long> e : unpersisted.entrySet()) {
      if (e.getValue() >= sentBeforeMillis) {
        break;
      }
      out.add(e.getKey());
    }
    return out;
  }

  /** Storage says these are persisted (and some of them archived). */
  synchronized void foundPersisted(List<String> persisted, List<String> archived) {
    for (String id : persisted) {
      if (!closed && !ending && queue.size() < MAX_QUEUED && unpersisted.remove(id) != null) {
        queue.add(new Outgoing(event(Type.MESSAGE_PERSISTED, id), false));
        if (archived.contains(id)) {
          queue.add(new Outgoing(event(Type.MESSAGE_ARCHIVED, id), false));
        }
      }
    }
    pump();
  }

  /** Ends the stream with {@code error} (the gateway is shutting down). */
  synchronized void abort(RuntimeException error) {
    if (!closed) {
      close();
      stream.fail(error);
    }
  }

  /** The caller went away. */
  synchronized void cancelled() {
    if (!closed) {
      close();
    }
  }

  private void close() {
    closed = true;
    queue.clear();
    unpersisted.clear();
    onEnd.run();
  }

  private ThreadEvent event(Type type, String messageId) {
    long now = clock.millis();
    return ThreadEvent.newBuilder().setType(type).setThreadId(threadId).setMessageId(messageId)
        .setOccurredAt(Timestamp.newBuilder().setSeconds(now / 1000).setNanos((int) (now % 1000) * 1_000_000))
        .build();
  }
}
