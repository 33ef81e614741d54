package io.messagestore.server.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/** Direct reads of PostgreSQL, to check what really landed there. */
public final class Databases {
  private Databases() {}

  public static Connection connect(Map<String, String> settings) throws SQLException {
    return DriverManager.getConnection(jdbcUrl(settings), settings.getOrDefault("MESSAGESTORE_POSTGRES_USER", "postgres"), "");
  }

  /** The JDBC form of the settings' PostgreSQL URL. */
  public static String jdbcUrl(Map<String, String> settings) {
    return settings.get("MESSAGESTORE_POSTGRES_URL").replaceFirst("^(r2dbc:|jdbc:)?postgres(ql)?://", "jdbc:postgresql://");
  }

  /** How many rows each of the given message ids has in {@code messages}. */
  public static Map<String, Integer> rowCounts(Map<String, String> settings, Collection<String> ids) throws SQLException {
    Map<String, Integer> counts = new HashMap<>();
    try (Connection c = connect(settings);
        PreparedStatement ps = c.prepareStatement(
            "SELECT message_id::text, count(*) FROM messages WHERE message_id = ANY(?) GROUP BY message_id")) {
      ps.setArray(1, c.createArrayOf("uuid", ids.stream().map(UUID::fromString).toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          counts.put(rs.getString(1), rs.getInt(2));
        }
      }
    }
    return counts;
  }

  /**
   * Waits (up to 30 s) until every one of {@code ids} is in {@code messages}, then checks that
   * none is there twice: what "nothing acknowledged is lost, nothing stored twice" means.
   */
  public static void assertEachStoredOnce(Map<String, String> settings, Collection<String> ids) throws Exception {
    Poll.until(Duration.ofSeconds(30), ids.size() + " messages in postgres", () -> {
      try {
        return rowCounts(settings, ids).size() == ids.size();
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(rowCounts(settings, ids).values()).allMatch(c -> c == 1);
  }

  /** The first column of the first row, as text; null when there is no row. */
  public static String value(Map<String, String> settings, String sql, Object... params) throws SQLException {
    try (Connection c = connect(settings); PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setObject(i + 1, params[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  public static long count(Map<String, String> settings, String sql, Object... params) throws SQLException {
    try (Connection c = connect(settings); PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setObject(i + 1, params[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
