package io.messagestore.server.postgres;

import io.messagestore.server.config.PostgresSettings;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.LocalTiers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/**
 * A database of its own in the shared PostgreSQL, migrated like the gateway's, for tests that
 * look at every row of a table (the oldest messages, the whole outbox) and must not see other
 * tests' rows.
 */
final class PrivateDatabase implements AutoCloseable {
  final String name = "ms_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  final PostgresTier tier;

  PrivateDatabase() throws SQLException {
    Map<String, String> shared = LocalTiers.shared();
    try (Connection c = Databases.connect(shared); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    }
    String url = Databases.jdbcUrl(shared).replaceFirst("/[^/?]+(\\?.*)?$", "/" + name);
    tier = new PostgresTier(new PostgresSettings(url, shared.getOrDefault("MESSAGESTORE_POSTGRES_USER", "postgres"),
        "", 2, Duration.ofSeconds(5)));
    if (!tier.ensureSchema()) {
      throw new IllegalStateException("migrations failed in " + name);
    }
  }

  Connection connection() throws SQLException {
    return tier.connection();
  }

  /**
   * Whether a session of this database waits for a lock of the kind {@code waitEvent} (as
   * {@code pg_stat_activity} names it: "advisory", "transactionid", ...). Ask on a connection
   * the test holds anyway: the pool has two, and the waiting statement holds the other.
   */
  static boolean waitsForLock(Connection c, String waitEvent) {
    try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_stat_activity"
        + " WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = ?")) {
      ps.setString(1, waitEvent);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1) > 0;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() throws SQLException {
    tier.close();
    try (Connection c = Databases.connect(LocalTiers.shared()); Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }
  }
}
