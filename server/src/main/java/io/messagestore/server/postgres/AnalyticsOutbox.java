package io.messagestore.server.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
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

  /** Up to {@code limit} queued rows, oldest first. */
  public List<Row> take(Connection c, int limit) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT seq, message_id::text, thread_id, user_id, role, content_bytes,
               (extract(epoch FROM created_at) * 1000)::bigint AS created_ms
        FROM analytics_outbox ORDER BY seq LIMIT ?""")) {
      ps.setInt(1, limit);
      List<Row> rows = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getShort(5),
              rs.getLong(6), rs.getLong(7)));
        }
      }
      return rows;
    }
  }

  /** Removes the rows that were copied. */
  public void remove(Connection c, List<Row> copied) throws SQLException {
    if (copied.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM analytics_outbox WHERE seq = ANY(?)")) {
      ps.setArray(1, c.createArrayOf("bigint", copied.stream().map(Row::seq).toArray()));
      ps.executeUpdate();
    }
  }

  /** How many rows wait. */
  public long backlog(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM analytics_outbox");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
