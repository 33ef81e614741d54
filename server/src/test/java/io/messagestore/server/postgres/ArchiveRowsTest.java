package io.messagestore.server.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Role;
import io.messagestore.server.testing.Poll;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ArchiveRowsTest {
  private static final AtomicInteger SEQUENCE = new AtomicInteger();

  @RegisterExtension
  final PrivateDatabaseExtension postgres = new PrivateDatabaseExtension();
  private final ArchiveRows rows = new ArchiveRows();

  static String idAt(Instant at) {
    long ms = at.toEpochMilli();
    return new UUID((ms << 16) | 0x7000 | (SEQUENCE.incrementAndGet() & 0xfff),
        0x8000000000000000L | (UUID.randomUUID().getLeastSignificantBits() & 0x3fffffffffffffffL)).toString();
  }

  static Message message(String thread, Instant at) {
    long ms = at.toEpochMilli();
    return Message.newBuilder().setMessageId(idAt(at)).setThreadId(thread).setUserId("alice").setRole(Role.ROLE_USER)
        .setContent("at " + at).setCreatedAt(Timestamp.newBuilder().setSeconds(ms / 1000)
            .setNanos((int) (ms % 1000) * 1_000_000)).build();
  }

  private long column(String sql, String thread) throws SQLException {
    try (Connection c = postgres.db().connection(); PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, thread);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Test
  void theLeaseHasOneHolderUntilItExpiresOrIsReleased() throws Exception {
    try (Connection c = postgres.db().connection()) {
      assertThat(rows.acquire(c, "gateway-a", Duration.ofMinutes(1))).isTrue();
      assertThat(rows.acquire(c, "gateway-b", Duration.ofMinutes(1))).isFalse();
      assertThat(rows.acquire(c, "gateway-a", Duration.ofMinutes(1))).as("renewal").isTrue();

      rows.release(c, "gateway-a");
      assertThat(rows.acquire(c, "gateway-b", Duration.ofMillis(200))).isTrue();
      assertThat(rows.lease(c)).hasValueSatisfying(l -> assertThat(l.holder()).isEqualTo("gateway-b"));

      // A holder that stops renewing (killed) loses the lease once it expires.
      Poll.until(Duration.ofSeconds(10), "gateway-b's lease to expire", () -> {
        try {
          return rows.acquire(c, "gateway-a", Duration.ofMinutes(1));
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      });
      rows.recordRun(c, "gateway-a", 42, null);
      assertThat(rows.lease(c)).hasValueSatisfying(l -> {
        assertThat(l.holder()).isEqualTo("gateway-a");
        assertThat(l.lastRunMessages()).isEqualTo(42);
        assertThat(l.lastRunAt()).isPresent();
      });
    }
  }

  @Test
  void batchesComeOldestFirstBelowTheCutoffAndLeaveWithTheirCountRaisedInOneStep() throws Exception {
    String thread = "t-" + UUID.randomUUID();
    Instant now = Instant.now();
    List<Message> old = new ArrayList<>();
    for (int i = 5; i >= 1; i--) {
      old.add(message(thread, now.minus(Duration.ofDays(i))));
    }
    Message recent = message(thread, now);
    List<Message> all = new ArrayList<>(old);
    all.add(recent);
    postgres.store().insert(all, null);
    String cutoff = idAt(now.minus(Duration.ofHours(1)));

    try (Connection c = postgres.db().connection()) {
      assertThat(rows.backlog(c, cutoff)).isEqualTo(5);
      ArchiveRows.Batch batch = rows.nextBatch(c, cutoff, 3, List.of());
      assertThat(batch.messages()).containsExactlyElementsOf(old.subList(0, 3));

      assertThat(rows.remove(c, batch.messages(), batch.readAt())).isEqualTo(3);
      assertThat(rows.remove(c, batch.messages(), batch.readAt())).as("a batch removed again").isZero();
      assertThat(rows.nextBatch(c, cutoff, 10, List.of(old.get(3).getMessageId())).messages())
          .as("skipping one").containsExactly(old.get(4));
      assertThat(rows.nextBatch(c, cutoff, 10, List.of()).messages()).containsExactlyElementsOf(old.subList(3, 5));
      assertThat(rows.oldestId(c)).contains(old.get(3).getMessageId());
    }
    assertThat(column("SELECT archived_messages FROM threads WHERE thread_id = ?", thread)).isEqualTo(3);
    assertThat(column("SELECT message_count FROM threads WHERE thread_id = ?", thread)).as("ListThreads count").isEqualTo(6);
  }

  @Test
  void storedMessagesQueueTheirAnalyticsRowsAndAnErasedIncarnationIsNeverStoredAgain() throws Exception {
    String thread = "t-" + UUID.randomUUID();
    Instant now = Instant.now();
    Message before = message(thread, now.minusSeconds(10));
    Message erasedBound = message(thread, now.minusSeconds(5));
    Message after = message(thread, now);
    try (Connection c = postgres.db().connection(); PreparedStatement ps = c.prepareStatement(
        "INSERT INTO thread_erasures (thread_id, erased_through) VALUES (?, ?::uuid)")) {
      ps.setString(1, thread);
      ps.setString(2, erasedBound.getMessageId());
      ps.executeUpdate();
    }

    assertThat(postgres.store().insert(List.of(before, erasedBound, after), null)).containsExactly(after.getMessageId());

    AnalyticsOutbox outbox = new AnalyticsOutbox();
    try (Connection c = postgres.db().connection()) {
      AnalyticsOutbox.Taken taken = outbox.take(c, 10);
      List<AnalyticsOutbox.Row> queued = taken.rows();
      assertThat(queued).extracting(AnalyticsOutbox.Row::messageId).containsExactly(after.getMessageId());
      assertThat(queued.get(0).contentBytes()).isEqualTo(after.getContent().length());
      assertThat(queued.get(0).createdMs()).isEqualTo(now.toEpochMilli());
      outbox.remove(c, queued, taken.readAt());
      assertThat(outbox.backlog(c)).isZero();
    }
  }
}
