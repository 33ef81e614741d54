package io.messagestore.server.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code redis_repairs} table: threads written to PostgreSQL while Redis could not take the
 * write, waiting for their Redis state to be repaired. Rows are added by
 * {@link PostgresMessageStore#insertMissingFromRedis}. Every method is blocking.
 */
public final class RedisRepairRows {
  /** One marked thread; {@code generation} rises with every failover write to it. */
  public record Marked(String threadId, String userId, long generation) {}

  private final PostgresTier tier;

  public RedisRepairRows(PostgresTier tier) {
    this.tier = tier;
  }

  /** Up to {@code limit} marked threads, the longest waiting first. */
  public List<Marked> oldest(int limit) throws SQLException {
    try (Connection c = tier.connection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT thread_id, user_id, generation FROM redis_repairs ORDER BY marked_at, thread_id LIMIT ?")) {
      ps.setInt(1, limit);
      List<Marked> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Marked(rs.getString(1), rs.getString(2), rs.getLong(3)));
        }
      }
      return out;
    }
  }

  /** The mark of one thread, if it has one. */
  public Optional<Marked> find(String threadId) throws SQLException {
    try (Connection c = tier.connection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT thread_id, user_id, generation FROM redis_repairs WHERE thread_id = ?")) {
      ps.setString(1, threadId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(new Marked(rs.getString(1), rs.getString(2), rs.getLong(3))) : Optional.empty();
      }
    }
  }

  /**
   * Removes the mark if no failover write came after {@code repaired} was read; returns false
   * when one did (the thread stays marked for the next round).
   */
  public boolean clear(Marked repaired) throws SQLException {
    try (Connection c = tier.connection();
        PreparedStatement ps = c.prepareStatement(
            "DELETE FROM redis_repairs WHERE thread_id = ? AND generation = ?")) {
      ps.setString(1, repaired.threadId());
      ps.setLong(2, repaired.generation());
      return ps.executeUpdate() == 1;
    }
  }
}
