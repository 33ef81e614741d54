package io.messagestore.server.archive;

import io.messagestore.server.postgres.RunArchiveRows;
import io.messagestore.server.postgres.RunArchiveRows.CompletedRun;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

/**
 * Completed runs in PostgreSQL (their final state and any history CHECKPOINT_FULL kept) as the
 * run archive pump's source: they leave PostgreSQL only once ClickHouse holds every version.
 */
final class RunArchiveSource extends TableSource<CompletedRun> {
  private final RunArchiveRows rows;
  private final int batchSize;

  RunArchiveSource(RunArchiveRows rows, OwnConnection connection, FeederLease lease, Duration idleWait,
      int batchSize) {
    super(connection, lease, idleWait);
    this.rows = rows;
    this.batchSize = batchSize;
  }

  @Override
  public String laneName(int lane) {
    return "completed runs";
  }

  @Override
  Fetched<CompletedRun> fetch(Connection c, Collection<String> refused) throws SQLException {
    RunArchiveRows.Batch batch = rows.nextBatch(c, batchSize, refused);
    return new Fetched<>(batch.runs(), batch.readAt());
  }

  @Override
  String idOf(CompletedRun run) {
    return run.runId();
  }

  @Override
  void remove(Connection c, List<CompletedRun> archived, Instant readAt) throws SQLException {
    rows.remove(c, archived);
  }

  @Override
  public void close() {
    // The connection belongs to the archiver.
  }
}
