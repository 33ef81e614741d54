package io.messagestore.server.watch;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.server.read.ReadPath;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The watch's ordering and flow-control rules, against a scripted stream and storage. */
class ThreadWatchTest {
  private final FakeStream stream = new FakeStream();
  private final ArrayDeque<Read> reads = new ArrayDeque<>();
  private final ThreadWatch watch = new ThreadWatch("t", id(0), stream,
      (thread, after, n) -> {
        Read r = new Read(after, n, new CompletableFuture<>());
        reads.add(r);
        return r.page();
      }, () -> true, Runnable::run, new WatchMetrics(new SimpleMeterRegistry(), () -> 0),
      Clock.fixed(Instant.parse("2026-12-04T10:00:00Z"), ZoneOffset.UTC), () -> { });

  private record Read(String after, int size, CompletableFuture<ReadPath.ThreadPage> page) {}

  private static final class FakeStream implements WatchStream {
    final List<ThreadEvent> sent = new ArrayList<>();
    boolean ready = true;
    boolean completed;

    @Override
    public boolean isReady() {
      return ready;
    }

    @Override
    public void send(ThreadEvent event) {
      sent.add(event);
    }

    @Override
    public void complete() {
      completed = true;
    }

    @Override
    public void fail(RuntimeException error) {
      throw new AssertionError("unexpected failure", error);
    }

    @Override
    public void onReady(Runnable r) {}

    @Override
    public void onCancel(Runnable r) {}

    List<String> confirmed() {
      return sent.stream().filter(e -> e.getType() == ThreadEvent.Type.MESSAGE_CONFIRMED)
          .map(ThreadEvent::getMessageId).toList();
    }
  }

  /** UUIDv7-shaped, n seconds into the thread's life: their text sorts as their numbers do. */
  private static String id(int n) {
    return new java.util.UUID(((1_000_000L + n * 1000L) << 16) | 0x7000, 0x8000000000000000L).toString();
  }

  private static Message message(int n) {
    return Message.newBuilder().setMessageId(id(n)).setThreadId("t").build();
  }

  private static ThreadChannel.Confirmed announced(int n) {
    return new ThreadChannel.Confirmed(n == 0 ? null : id(n - 1), message(n));
  }

  private static ReadPath.ThreadPage page(boolean more, int... ns) {
    return new ReadPath.ThreadPage(IntStream.of(ns).mapToObj(ThreadWatchTest::message).toList(), more);
  }

  /** Subscribed, read from storage up to the present: live from here on. */
  private void caughtUp() {
    watch.resync();
    reads.remove().page().complete(page(false));
  }

  @Test
  void anAnnouncementNamingThePositionGoesOutLiveAndAGapIsFilledFromStorageInOrder() {
    caughtUp();
    watch.changed(announced(1));
    assertThat(reads).isEmpty();

    watch.changed(announced(3));
    Read gap = reads.remove();
    assertThat(gap.after()).isEqualTo(id(1));
    // Announced while the read is under way: held, then connected to the page's last message.
    watch.changed(announced(4));
    gap.page().complete(page(false, 2, 3));

    assertThat(stream.confirmed()).containsExactly(id(1), id(2), id(3), id(4));
    assertThat(reads).isEmpty();
  }

  @Test
  void whatStorageAndAnnouncementsBothDeliverGoesOutOnce() {
    caughtUp();
    watch.changed(announced(2));
    Read gap = reads.remove();
    watch.changed(announced(2));
    watch.changed(announced(3));
    gap.page().complete(page(false, 1, 2, 3));
    watch.changed(announced(3));

    assertThat(stream.confirmed()).containsExactly(id(1), id(2), id(3));
  }

  @Test
  void aFullPageIsFollowedByTheNextOne() {
    watch.resync();
    reads.remove().page().complete(page(true, 1, 2));
    Read next = reads.remove();
    assertThat(next.after()).isEqualTo(id(2));
    next.page().complete(page(false, 3));

    assertThat(stream.confirmed()).containsExactly(id(1), id(2), id(3));
  }

  @Test
  void aCallerThatStopsReadingHoldsABoundedQueueAndGetsTheRestFromStorageOnceReady() {
    caughtUp();
    stream.ready = false;
    for (int n = 1; n <= 1000; n++) {
      watch.changed(announced(n));
    }
    assertThat(stream.sent).isEmpty();
    assertThat(reads).as("no read while the caller does not read").isEmpty();

    stream.ready = true;
    watch.pump();
    assertThat(stream.confirmed()).hasSize(ThreadWatch.MAX_QUEUED);
    Read rest = reads.remove();
    assertThat(rest.after()).isEqualTo(id(ThreadWatch.MAX_QUEUED));
    rest.page().complete(page(false, IntStream.rangeClosed(ThreadWatch.MAX_QUEUED + 1, 1000).toArray()));

    assertThat(stream.confirmed()).containsExactlyElementsOf(IntStream.rangeClosed(1, 1000).mapToObj(ThreadWatchTest::id)
        .toList());
  }

  @Test
  void aWriteAroundRedisBehindThePositionIsSentLateButOnce() {
    caughtUp();
    watch.changed(announced(1));
    watch.changed(announced(3));
    reads.remove().page().complete(page(false, 3));
    // 2 was written around Redis: committed after 3 had gone out.
    watch.writtenAroundRedis();

    Read again = reads.remove();
    assertThat(again.after()).isLessThan(id(1));
    again.page().complete(page(false, 1, 2, 3));

    assertThat(stream.confirmed()).containsExactly(id(1), id(3), id(2));
    watch.changed(announced(4));
    assertThat(stream.confirmed()).endsWith(id(4));
    assertThat(reads).isEmpty();
  }

  @Test
  void aResubscriptionWhileAPageIsReadAsksForAnotherRead() {
    caughtUp();
    watch.changed(announced(2));
    Read gap = reads.remove();
    // Announcements of 3 and 4 are lost while the connection is down; the page predates them.
    watch.resync();
    gap.page().complete(page(false, 1, 2));

    Read again = reads.remove();
    assertThat(again.after()).isEqualTo(id(2));
    again.page().complete(page(false, 3, 4));
    assertThat(stream.confirmed()).containsExactly(id(1), id(2), id(3), id(4));
  }

  @Test
  void aWriteAroundRedisWhileALookBackIsReadLooksBackAgain() {
    caughtUp();
    watch.changed(announced(1));
    watch.writtenAroundRedis();
    Read lookBack = reads.remove();
    // 2 and 3 are committed around Redis after the page was read, but before it arrives.
    watch.writtenAroundRedis();
    lookBack.page().complete(page(false, 1));

    Read again = reads.remove();
    assertThat(again.after()).isEqualTo(lookBack.after());
    again.page().complete(page(false, 1, 2, 3));
    assertThat(stream.confirmed()).containsExactly(id(1), id(2), id(3));
    assertThat(reads).isEmpty();
  }

  @Test
  void persistedFollowsConfirmedOnceAndDeletionEndsTheStream() {
    caughtUp();
    watch.changed(announced(1));
    watch.changed(new ThreadChannel.Persisted(List.of(id(1), id(7))));
    watch.changed(new ThreadChannel.Persisted(List.of(id(1))));
    watch.changed(new ThreadChannel.Deleted());

    assertThat(stream.sent).extracting(ThreadEvent::getType).containsExactly(ThreadEvent.Type.MESSAGE_CONFIRMED,
        ThreadEvent.Type.MESSAGE_PERSISTED, ThreadEvent.Type.THREAD_DELETED);
    assertThat(stream.completed).isTrue();
  }
}
