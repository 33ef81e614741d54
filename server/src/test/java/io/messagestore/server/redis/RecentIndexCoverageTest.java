package io.messagestore.server.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which pages the recent index alone answers (the coverage rule), without Redis. */
class RecentIndexCoverageTest {
  static final String A = "01a20000-0000-7000-8000-000000000000";
  static final String B = "01a20001-0000-7000-8000-000000000000";
  static final String C = "01a20002-0000-7000-8000-000000000000";
  static final String D = "01a20003-0000-7000-8000-000000000000";

  final RecentIndex index = new RecentIndex(new RedisKeys(4), 20, Duration.ofHours(1));

  @Test
  void noIndexCoversNothing() {
    RecentIndex.Slice none = new RecentIndex.Slice(List.of(), null);
    assertThat(none.covers(null, 10, true)).isFalse();
    assertThat(none.covers(null, 10, false)).isFalse();
    assertThat(none.covers(B, 10, false)).isFalse();
  }

  @Test
  void aNewestFirstPageIsCoveredWhenTheIndexFillsIt() {
    assertThat(new RecentIndex.Slice(List.of(D, C), B).covers(null, 2, true)).isTrue();
    // Fewer than asked for: older messages may lie below the index, in PostgreSQL only.
    assertThat(new RecentIndex.Slice(List.of(D, C, B), B).covers(null, 4, true)).isFalse();
    assertThat(new RecentIndex.Slice(List.of(C), B).covers(D, 2, true)).isFalse();
  }

  @Test
  void anOldestFirstPageIsCoveredWhenItStartsInsideTheIndex() {
    RecentIndex.Slice fromB = new RecentIndex.Slice(List.of(C, D), B);
    assertThat(fromB.covers(B, 10, false)).as("cursor at the lowest id").isTrue();
    assertThat(fromB.covers(C, 10, false)).as("cursor above the lowest id").isTrue();
    assertThat(new RecentIndex.Slice(List.of(B, C, D), B).covers(A, 10, false)).as("cursor below it").isFalse();
    assertThat(new RecentIndex.Slice(List.of(B, C, D), B).covers(null, 10, false)).as("from the thread's start")
        .isFalse();
  }

  @Test
  void anIndexWithTheThreadStartMarkerCoversEveryPage() {
    RecentIndex.Slice whole = new RecentIndex.Slice(List.of(A, B), RecentIndex.THREAD_START);
    assertThat(whole.holdsWholeThread()).isTrue();
    assertThat(whole.covers(null, 50, false)).isTrue();
    assertThat(whole.covers(null, 50, true)).isTrue();
    assertThat(whole.covers(B, 50, true)).isTrue();
    assertThat(new RecentIndex.Slice(List.of(), RecentIndex.THREAD_START).covers(null, 50, true))
        .as("a thread with no message yet").isTrue();
  }

  @Test
  void theMarkerSortsBelowEveryId() {
    assertThat(RecentIndex.THREAD_START.compareTo(A)).isNegative();
    assertThat(new RecentIndex.Lowest(RecentIndex.THREAD_START).after()).isNull();
    assertThat(new RecentIndex.Lowest(B).after()).isEqualTo(B);
  }

  @Test
  void aShortPageFromAnEndOfTheThreadIsTheWholeThread() {
    assertThat(index.isWholeThread(true, 5, 50, 0)).isTrue();
    assertThat(index.isWholeThread(false, 5, 50, 0)).as("read after a cursor").isFalse();
    assertThat(index.isWholeThread(true, 0, 50, 0)).as("nothing found").isFalse();
    assertThat(index.isWholeThread(true, 5, 5, 0)).as("a full page").isFalse();
    assertThat(index.isWholeThread(true, 20, 50, 0)).as("as long as the window").isFalse();
    assertThat(index.isWholeThread(true, 5, 50, 1)).as("archived messages").isFalse();
  }
}
