package io.messagestore.server.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.api.v1.Message;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The analytics outbox as batches: one row per insert statement, taken whole, removed by what was copied. */
class AnalyticsOutboxTest {
  @RegisterExtension
  final PrivateDatabaseExtension postgres = new PrivateDatabaseExtension();
  private final AnalyticsOutbox outbox = new AnalyticsOutbox();

  private static List<Message> messages(String thread, int n, Instant first) {
    return java.util.stream.IntStream.range(0, n)
        .mapToObj(i -> ArchiveRowsTest.message(thread, first.plusMillis(i))).toList();
  }

  @Test
  void eachInsertQueuesOneBatchAndATakeReturnsWholeBatchesInOrder() throws SQLException {
    String thread = "facts-" + UUID.randomUUID();
    Instant now = Instant.now();
    List<Message> first = messages(thread, 3, now);
    List<Message> second = messages(thread, 2, now.plusSeconds(1));
    postgres.store().insert(first, null);
    postgres.store().insert(second, null);

    try (Connection c = postgres.db().connection()) {
      assertThat(outbox.backlog(c)).isEqualTo(5);
      // A limit inside the first batch still takes it whole, and nothing more.
      assertThat(outbox.take(c, 2).rows()).extracting(AnalyticsOutbox.Row::messageId)
          .containsExactlyElementsOf(first.stream().map(Message::getMessageId).toList());
      assertThat(outbox.take(c, 100).rows()).hasSize(5);
    }
  }

  @Test
  void aBatchCopiedInPartKeepsWhatWasNotCopied() throws SQLException {
    String thread = "partial-" + UUID.randomUUID();
    List<Message> batch = messages(thread, 4, Instant.now());
    postgres.store().insert(batch, null);

    try (Connection c = postgres.db().connection()) {
      AnalyticsOutbox.Taken taken = outbox.take(c, 100);
      // ClickHouse took all but the third (a refused row stays for an operator to see).
      List<AnalyticsOutbox.Row> copied = List.of(taken.rows().get(0), taken.rows().get(1), taken.rows().get(3));
      outbox.remove(c, copied, taken.readAt());

      AnalyticsOutbox.Taken left = outbox.take(c, 100);
      assertThat(left.rows()).extracting(AnalyticsOutbox.Row::messageId).containsExactly(batch.get(2).getMessageId());
      assertThat(outbox.backlog(c)).isEqualTo(1);
      outbox.remove(c, left.rows(), left.readAt());
      assertThat(outbox.backlog(c)).isZero();
    }
  }

  @Test
  void factsOfAnErasedIncarnationAreNeverTakenAndLeaveWithTheirBatch() throws SQLException {
    String erased = "erased-" + UUID.randomUUID();
    String kept = "kept-" + UUID.randomUUID();
    Instant now = Instant.now();
    Message gone = ArchiveRowsTest.message(erased, now);
    Message stays = ArchiveRowsTest.message(kept, now.plusMillis(1));
    postgres.store().insert(List.of(gone, stays), null);
    try (Connection c = postgres.db().connection(); PreparedStatement ps = c.prepareStatement(
        "INSERT INTO thread_erasures (thread_id, erased_through) VALUES (?, ?::uuid)")) {
      ps.setString(1, erased);
      ps.setString(2, gone.getMessageId());
      ps.executeUpdate();
    }

    try (Connection c = postgres.db().connection()) {
      AnalyticsOutbox.Taken taken = outbox.take(c, 100);
      assertThat(taken.rows()).extracting(AnalyticsOutbox.Row::messageId).containsExactly(stays.getMessageId());
      outbox.remove(c, taken.rows(), taken.readAt());
      assertThat(outbox.backlog(c)).isZero();
    }
  }

  /** A batch of erased facts only is dropped as it is read: left, such batches would fill every read's window. */
  @Test
  void aBatchOfErasedFactsOnlyIsDroppedWhenRead() throws SQLException {
    String erased = "all-erased-" + UUID.randomUUID();
    Instant now = Instant.now();
    List<Message> gone = messages(erased, 3, now);
    postgres.store().insert(gone, null);
    Message later = ArchiveRowsTest.message("live-" + UUID.randomUUID(), now.plusSeconds(1));
    postgres.store().insert(List.of(later), null);
    try (Connection c = postgres.db().connection(); PreparedStatement ps = c.prepareStatement(
        "INSERT INTO thread_erasures (thread_id, erased_through) VALUES (?, ?::uuid)")) {
      ps.setString(1, erased);
      ps.setString(2, gone.get(2).getMessageId());
      ps.executeUpdate();
    }

    try (Connection c = postgres.db().connection()) {
      // A limit the erased batch alone would reach: the live one behind it is read all the same.
      assertThat(outbox.take(c, 1).rows()).isEmpty();
      assertThat(outbox.backlog(c)).isEqualTo(1);
      assertThat(outbox.take(c, 1).rows()).extracting(AnalyticsOutbox.Row::messageId)
          .containsExactly(later.getMessageId());
    }
  }

  /** During a rolling upgrade: the previous release's per-message rows reach the new feed. */
  @Test
  void rowsThePreviousReleaseInsertsJoinTheBatches() throws SQLException {
    String thread = "old-release-" + UUID.randomUUID();
    Message m = ArchiveRowsTest.message(thread, Instant.now());
    try (Connection c = postgres.db().connection(); PreparedStatement ps = c.prepareStatement("""
        INSERT INTO analytics_outbox (message_id, thread_id, user_id, role, content_bytes, created_at)
        VALUES (?::uuid, ?, 'alice', 1, 12, now()), (?::uuid, ?, 'alice', 1, 34, now())""")) {
      ps.setString(1, m.getMessageId());
      ps.setString(2, thread);
      ps.setString(3, ArchiveRowsTest.idAt(Instant.now().plusMillis(1)));
      ps.setString(4, thread);
      ps.executeUpdate();
    }

    try (Connection c = postgres.db().connection()) {
      assertThat(outbox.take(c, 100).rows()).extracting(AnalyticsOutbox.Row::contentBytes).containsExactly(12L, 34L);
      try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM analytics_outbox");
          java.sql.ResultSet rs = ps.executeQuery()) {
        rs.next();
        assertThat(rs.getLong(1)).as("the old table stays empty").isZero();
      }
    }
  }
}
