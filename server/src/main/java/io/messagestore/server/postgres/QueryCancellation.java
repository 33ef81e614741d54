package io.messagestore.server.postgres;

import java.sql.SQLException;
import java.sql.Statement;

/**
 * Tells a running query that nobody waits for its answer any more, so PostgreSQL stops working
 * on it ({@link Statement#cancel()}) instead of finishing a page for a caller who left.
 */
@FunctionalInterface
public interface QueryCancellation {
  /** For work that must finish whoever asked for it. */
  QueryCancellation NONE = cancel -> () -> {};

  /**
   * Runs {@code cancel} once the caller is gone, on a thread that may block (cancelling a
   * PostgreSQL query opens a connection of its own), until the returned watch is closed.
   */
  Watch watch(Runnable cancel);

  /** Stops watching; closing never fails. */
  interface Watch extends AutoCloseable {
    @Override
    void close();
  }

  /** Executes the query, cancelling it in PostgreSQL if the caller goes away meanwhile. */
  static java.sql.ResultSet executeQuery(java.sql.PreparedStatement ps, QueryCancellation cancellation)
      throws SQLException {
    try (Watch w = cancellation.watch(() -> {
      try {
        ps.cancel();
      } catch (SQLException e) {
        // The statement finished or its connection closed meanwhile: nothing left to cancel.
      }
    })) {
      return ps.executeQuery();
    }
  }
}
