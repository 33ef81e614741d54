package io.messagestore.server.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
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
