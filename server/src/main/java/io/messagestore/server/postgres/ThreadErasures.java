package io.messagestore.server.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The PostgreSQL side of erasing a thread (DeleteThread): one transaction records the erasure
 * (so that no persister, failover write or archive batch ever stores the erased messages again),
 * deletes the thread's messages, queued analytics rows, repair mark and thread row, and writes
 * the audit record. The ClickHouse part is tracked here until its mutations have run.
 */
public final class ThreadErasures {
  /** The first key of the advisory locks below, so that they meet no other advisory lock. */
  private static final int LOCK_NAMESPACE = 0x4d534552;
  private static final int LOCK_BUCKETS = 64;
  /**
   * Orders an erasure and the inserts of its thread's messages. Under READ COMMITTED an INSERT
   * whose snapshot was taken before an erasure committed does not see it, and the erasure's
   * DELETE does not see the INSERT's uncommitted rows: both commit and the erased messages are
   * back. So every insert first takes this lock, shared, for its threads (in buckets, so a batch
   * of many threads holds at most {@value #LOCK_BUCKETS} locks), in a statement of its own: the
   * INSERT after it takes its snapshot once any erasure of those threads has committed. An
   * erasure takes it exclusively before anything else and so waits for inserts under way.
   */
  static final String LOCK_THREADS_FOR_INSERT = """
      SELECT count(pg_advisory_xact_lock_shared(%1$d, b))
      FROM (SELECT DISTINCT hashtext(t) & %2$d AS b FROM unnest(?::text[]) t ORDER BY b) s"""
      .formatted(LOCK_NAMESPACE, LOCK_BUCKETS - 1);
  static final String LOCK_THREAD_FOR_ERASURE = "SELECT pg_advisory_xact_lock(%1$d, hashtext(?) & %2$d)"
      .formatted(LOCK_NAMESPACE, LOCK_BUCKETS - 1);

  private final PostgresTier tier;

  public ThreadErasures(PostgresTier tier) {
    this.tier = tier;
  }

  /** What one erasure removed from PostgreSQL. */
  public record Erased(Optional<String> owner, Set<String> messageIds, long archivedMessages) {}

  /** A thread whose ClickHouse rows are still to be erased. */
  public record Pending(String threadId, String erasedThrough, Instant erasedAt, boolean submitted, String error) {}

  /**
   * Erases the thread's messages up to {@code erasedThrough} (a message id: every message
   * acknowledged before the erasure began has a smaller or equal one), in one transaction.
   */
  public Erased erase(String threadId, String erasedThrough, String deletedBy, Set<String> idsInRedis)
      throws SQLException {
    try (Connection c = tier.connection()) {
      c.setAutoCommit(false);
      try {
        try (PreparedStatement ps = c.prepareStatement(LOCK_THREAD_FOR_ERASURE)) {
          ps.setString(1, threadId);
          ps.executeQuery().close();
        }
        try (PreparedStatement ps = c.prepareStatement("""
            INSERT INTO thread_erasures AS e (thread_id, erased_through) VALUES (?, ?::uuid)
            ON CONFLICT (thread_id) DO UPDATE
              SET erased_through = greatest(e.erased_through, EXCLUDED.erased_through), erased_at = now(),
                  clickhouse_submitted = NULL, clickhouse_done = NULL, clickhouse_error = NULL""")) {
          ps.setString(1, threadId);
          ps.setString(2, erasedThrough);
          ps.executeUpdate();
        }
        Set<String> ids = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(
            "DELETE FROM messages WHERE thread_id = ? AND message_id <= ?::uuid RETURNING message_id::text")) {
          ps.setString(1, threadId);
          ps.setString(2, erasedThrough);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              ids.add(rs.getString(1));
            }
          }
        }
        // Its analytics facts still in the outbox are left out when the feed reads them
        // (AnalyticsOutbox.take checks thread_erasures), and leave with their batches.
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM redis_repairs WHERE thread_id = ?")) {
          ps.setString(1, threadId);
          ps.executeUpdate();
        }
        Optional<String> owner = Optional.empty();
        long archived = 0;
        try (PreparedStatement ps = c.prepareStatement(
            "DELETE FROM threads WHERE thread_id = ? RETURNING user_id, archived_messages")) {
          ps.setString(1, threadId);
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
              owner = Optional.of(rs.getString(1));
              archived = rs.getLong(2);
            }
          }
        }
        try (PreparedStatement ps = c.prepareStatement("""
            INSERT INTO thread_deletion_audit (thread_id, owner_id, deleted_by, deleted_messages)
            VALUES (?, ?, ?, ?)""")) {
          ps.setString(1, threadId);
          ps.setString(2, owner.orElse(deletedBy));
          ps.setString(3, deletedBy);
          Set<String> all = new HashSet<>(ids);
          all.addAll(idsInRedis);
          ps.setLong(4, all.size() + archived);
          ps.executeUpdate();
        }
        c.commit();
        return new Erased(owner, ids, archived);
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** The owner recorded by the thread's last erasure, for finishing one that was cut short. */
  public Optional<String> lastErasedOwner(String threadId) throws SQLException {
    try (Connection c = tier.connection(); PreparedStatement ps = c.prepareStatement(
        "SELECT owner_id FROM thread_deletion_audit WHERE thread_id = ? ORDER BY id DESC LIMIT 1")) {
      ps.setString(1, threadId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    }
  }

  /** Erasures whose ClickHouse rows may remain, oldest first. */
  public List<Pending> pending(Connection c, int limit) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT thread_id, erased_through::text, erased_at, clickhouse_submitted IS NOT NULL, clickhouse_error
        FROM thread_erasures WHERE clickhouse_done IS NULL ORDER BY erased_at LIMIT ?""")) {
      ps.setInt(1, limit);
      List<Pending> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Pending(rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant(), rs.getBoolean(4),
              rs.getString(5)));
        }
      }
      return out;
    }
  }

  public void submitted(Connection c, Pending p) throws SQLException {
    update(c, "UPDATE thread_erasures SET clickhouse_submitted = now(), clickhouse_error = NULL"
        + " WHERE thread_id = ? AND erased_at = ?", p);
  }

  public void done(Connection c, Pending p) throws SQLException {
    update(c, "UPDATE thread_erasures SET clickhouse_done = now() WHERE thread_id = ? AND erased_at = ?"
        + " AND clickhouse_submitted IS NOT NULL", p);
  }

  public void failed(Connection c, Pending p, String error) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "UPDATE thread_erasures SET clickhouse_error = ? WHERE thread_id = ? AND erased_at = ?")) {
      ps.setString(1, error);
      ps.setString(2, p.threadId());
      ps.setTimestamp(3, Timestamp.from(p.erasedAt()));
      ps.executeUpdate();
    }
  }

  private static void update(Connection c, String sql, Pending p) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, p.threadId());
      ps.setTimestamp(2, Timestamp.from(p.erasedAt()));
      ps.executeUpdate();
    }
  }
}
