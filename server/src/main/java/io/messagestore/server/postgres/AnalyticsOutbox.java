package io.messagestore.server.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Analytics rows waiting for ClickHouse ({@code analytics_outbox}), queued by the statement
 * that stores their messages. The feed takes the oldest, copies them, and removes exactly the
 * rows it took: rows committed meanwhile with lower sequence numbers (a slower transaction)
 * wait for the next round instead of being skipped by a cursor.
 */
public final class AnalyticsOutbox {

  /** One queued row. */
  public record Row(long seq, String messageId, String threadId, String userId, int role, long contentBytes,
      long createdMs) {}

  /** Rows taken, and when the database read them. */
  public record Taken(List<Row> rows, Instant readAt) {}

  /** Up to {@code limit} queued rows, oldest first. */
  public Taken take(Connection c, int limit) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT seq, message_id::text, thread_id, user_id, role, content_bytes,
               (extract(epoch FROM created_at) * 1000)::bigint AS created_ms, now() AS read_at
        FROM analytics_outbox ORDER BY seq LIMIT ?""")) {
      ps.setInt(1, limit);
      List<Row> rows = new ArrayList<>();
      Instant readAt = Instant.EPOCH;
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getShort(5),
              rs.getLong(6), rs.getLong(7)));
          readAt = rs.getTimestamp(8).toInstant();
        }
      }
      return new Taken(rows, readAt);
    }
  }

  /**
   * Removes the rows that were copied. A thread erased since {@code readAt} may have had its
   * analytics rows erased in ClickHouse before these landed; its erasure is put back to run again.
   */
  public void remove(Connection c, List<Row> copied, Instant readAt) throws SQLException {
    if (copied.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement("""
        WITH gone AS (DELETE FROM analytics_outbox WHERE seq = ANY(?))
        UPDATE thread_erasures SET clickhouse_submitted = NULL, clickhouse_done = NULL
        WHERE thread_id = ANY(?) AND erased_at >= ?""")) {
      ps.setArray(1, c.createArrayOf("bigint", copied.stream().map(Row::seq).toArray()));
      ps.setArray(2, c.createArrayOf("text", copied.stream().map(Row::threadId).distinct().toArray()));
      ps.setTimestamp(3, java.sql.Timestamp.from(readAt));
      ps.executeUpdate();
    }
  }

  /**
   * How many rows wait: the span of their sequence numbers, read from the primary key's two
   * ends instead of counting them (exact while rows leave oldest first, as the feed takes them).
   */
  public long backlog(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT coalesce((SELECT max(seq) FROM analytics_outbox) - (SELECT min(seq) FROM analytics_outbox) + 1, 0)");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
