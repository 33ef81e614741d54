package io.messagestore.server.archive;

import io.messagestore.server.postgres.AnalyticsOutbox;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/**
 * The analytics outbox as the analytics pump's source. Rows leave it only once ClickHouse has
 * them, so a ClickHouse outage makes the outbox longer and loses nothing.
 */
final class OutboxSource extends TableSource<AnalyticsOutbox.Row> {
  private final AnalyticsOutbox outbox;
  private final int batchSize;

  OutboxSource(AnalyticsOutbox outbox, OwnConnection connection, FeederLease lease, Duration idleWait, int batchSize) {
    super(connection, lease, idleWait);
    this.outbox = outbox;
    this.batchSize = batchSize;
  }

  @Override
  public String laneName(int lane) {
    return "analytics outbox";
  }

  @Override
  Fetched<AnalyticsOutbox.Row> fetch(Connection c, Collection<String> refused) throws SQLException {
    // Refused rows stay first in line: read past them.
    AnalyticsOutbox.Taken taken = outbox.take(c, batchSize + refused.size());
    return new Fetched<>(taken.rows(), taken.readAt());
  }

  @Override
  String idOf(AnalyticsOutbox.Row row) {
    return row.id();
  }

  @Override
  void remove(Connection c, List<AnalyticsOutbox.Row> rows, Instant readAt) throws SQLException {
    outbox.remove(c, rows, readAt);
  }

  @Override
  public void close() {
    // The connection belongs to the archiver.
  }
}
