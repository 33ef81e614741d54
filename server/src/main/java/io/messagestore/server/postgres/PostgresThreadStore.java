package io.messagestore.server.postgres;

import com.google.protobuf.Timestamp;
import io.messagestore.api.v1.ThreadSummary;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Thread rows: the caller's threads by recent activity. */
public final class PostgresThreadStore {
  private final PostgresTier tier;

  public PostgresThreadStore(PostgresTier tier) {
    this.tier = tier;
  }

  /** One page and the cursor for the next (null at the end). */
  public record Page(List<ThreadSummary> threads, String nextCursor) {}

  /**
   * @param cursor {@code <last_activity micros>/<thread_id>} of the previous page's last row
   * @param cancellation cancels the query in PostgreSQL when the caller goes away
   */
  public Page listByUser(String userId, String cursor, int limit, QueryCancellation cancellation) throws SQLException {
    String sql = "SELECT thread_id, user_id, message_count, created_at, last_activity_at,"
        + " (extract(epoch from last_activity_at) * 1000000)::bigint AS activity_us FROM threads WHERE user_id = ?"
        + (cursor == null ? "" : " AND (last_activity_at, thread_id) < (timestamptz 'epoch' + ? * interval '1 microsecond', ?)")
        + " ORDER BY last_activity_at DESC, thread_id DESC LIMIT ?";
    try (Connection c = tier.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
      int i = 1;
      ps.setString(i++, userId);
      if (cursor != null) {
        int slash = cursor.indexOf('/');
        ps.setLong(i++, Long.parseLong(cursor.substring(0, slash)));
        ps.setString(i++, cursor.substring(slash + 1));
      }
      ps.setInt(i, limit);
      List<ThreadSummary> out = new ArrayList<>();
      String last = null;
      try (ResultSet rs = QueryCancellation.executeQuery(ps, cancellation)) {
        while (rs.next()) {
          out.add(ThreadSummary.newBuilder()
              .setThreadId(rs.getString("thread_id"))
              .setUserId(rs.getString("user_id"))
              .setMessageCount(rs.getLong("message_count"))
              .setCreatedAt(ts(rs.getTimestamp("created_at")))
              .setLastActivityAt(ts(rs.getTimestamp("last_activity_at")))
              .build());
          last = rs.getLong("activity_us") + "/" + rs.getString("thread_id");
        }
      }
      return new Page(out, out.size() == limit ? last : null);
    }
  }

  private static Timestamp ts(java.sql.Timestamp t) {
    return Timestamp.newBuilder().setSeconds(Math.floorDiv(t.getTime(), 1000)).setNanos(t.getNanos()).build();
  }

  /** Ids of the {@code limit} most recently active threads, most recent first. */
  public List<String> recentlyActive(int limit) throws SQLException {
    try (Connection c = tier.connection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT thread_id FROM threads ORDER BY last_activity_at DESC, thread_id DESC LIMIT ?")) {
      ps.setInt(1, limit);
      List<String> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
      return out;
    }
  }
}
