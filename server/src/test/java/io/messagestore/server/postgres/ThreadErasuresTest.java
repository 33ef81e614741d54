package io.messagestore.server.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.api.v1.Message;
import io.messagestore.server.testing.Poll;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ThreadErasuresTest {
  @RegisterExtension
  final PrivateDatabaseExtension postgres = new PrivateDatabaseExtension();

  /**
   * A persister's insert of a message that an erasure is removing at that moment: whichever
   * commits first, the message must not be stored afterwards (it was, before the insert took
   * the erasure lock: its snapshot did not see the erasure, the erasure's DELETE did not see it).
   */
  @Test
  void anInsertRacingAnErasureNeverBringsTheErasedMessageBack() throws Exception {
    String thread = "erased-" + UUID.randomUUID();
    Message late = ArchiveRowsTest.message(thread, Instant.now());
    try (Connection erasure = postgres.db().connection()) {
      // The erasure's transaction, as ThreadErasures.erase runs it, held open before its commit.
      erasure.setAutoCommit(false);
      try (PreparedStatement ps = erasure.prepareStatement(ThreadErasures.LOCK_THREAD_FOR_ERASURE)) {
        ps.setString(1, thread);
        ps.executeQuery().close();
      }
      try (PreparedStatement ps = erasure.prepareStatement(
          "INSERT INTO thread_erasures (thread_id, erased_through) VALUES (?, ?::uuid)")) {
        ps.setString(1, thread);
        ps.setString(2, ArchiveRowsTest.idAt(Instant.now().plusSeconds(1)));
        ps.executeUpdate();
      }
      try (PreparedStatement ps = erasure.prepareStatement("DELETE FROM messages WHERE thread_id = ?")) {
        ps.setString(1, thread);
        ps.executeUpdate();
      }

      CompletableFuture<Set<String>> insert = CompletableFuture.supplyAsync(() -> {
        try {
          return postgres.store().insert(List.of(late), null);
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      });
      Poll.until(Duration.ofSeconds(10), "the insert to wait for the erasure (or, unordered, to finish)",
          () -> insert.isDone() || PrivateDatabase.waitsForLock(erasure, "advisory"));
      erasure.commit();

      assertThat(insert.get(10, TimeUnit.SECONDS)).isEmpty();
    }
    assertThat(postgres.store().existing(List.of(late.getMessageId()))).isEmpty();
    assertThat(count("SELECT count(*) FROM analytics_outbox_batches b, unnest(b.thread_ids) t WHERE t = ?", thread))
        .isZero();
    assertThat(count("SELECT count(*) FROM threads WHERE thread_id = ?", thread)).isZero();
  }

  @Test
  void messagesOfANewIncarnationAreStoredAfterTheErasure() throws Exception {
    String thread = "reborn-" + UUID.randomUUID();
    Message old = ArchiveRowsTest.message(thread, Instant.now().minusSeconds(5));
    postgres.store().insert(List.of(old), null);

    ThreadErasures.Erased erased = new ThreadErasures(postgres.db().tier).erase(thread,
        ArchiveRowsTest.idAt(Instant.now()), "alice", Set.of());
    Message fresh = ArchiveRowsTest.message(thread, Instant.now().plusSeconds(1));

    assertThat(erased.messageIds()).containsExactly(old.getMessageId());
    assertThat(postgres.store().insert(List.of(old, fresh), null)).containsExactly(fresh.getMessageId());
    assertThat(count("SELECT message_count FROM threads WHERE thread_id = ?", thread)).isEqualTo(1);
  }

  private long count(String sql, String argument) throws SQLException {
    try (Connection c = postgres.db().connection(); PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, argument);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
