package io.messagestore.server.archive;

import io.messagestore.server.postgres.PostgresTier;
import java.sql.Connection;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL connection of the archive jobs' own, outside the pool, so that moving data to
 * ClickHouse never takes one of the request path's few pooled connections: opened when first
 * needed, dropped after a failure and opened again on the next use.
 */
final class OwnConnection implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OwnConnection.class);

  private final PostgresTier tier;
  private Connection connection;

  OwnConnection(PostgresTier tier) {
    this.tier = tier;
  }

  synchronized Connection get() throws SQLException {
    if (connection == null) {
      connection = tier.dedicatedConnection();
      connection.setAutoCommit(true);
    }
    return connection;
  }

  /** After a failure: the connection may be broken, so the next use opens another. */
  synchronized void reset() {
    close();
  }

  @Override
  public synchronized void close() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        log.debug("closing the archive jobs' connection", e);
      }
      connection = null;
    }
  }
}
