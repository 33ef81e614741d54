package io.messagestore.server.postgres;

import io.messagestore.api.v1.RunState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Completed runs on their way to the ClickHouse archive: read by run id with the history kept of
 * them, and taken out of PostgreSQL (state and history; the row stays, saying the run is
 * archived) once ClickHouse holds them. Used on the archiver's own connection.
 */
public final class RunArchiveRows {
  /** A completed run: its final state and every version kept of it, oldest first. */
  public record CompletedRun(String runId, List<RunState> versions) {
    public RunState last() {
      return versions.get(versions.size() - 1);
    }
  }

  /** Runs read at once, and when the database read them. */
  public record Batch(List<CompletedRun> runs, Instant readAt) {}

  public Batch nextBatch(Connection c, int limit, Collection<String> refused) throws SQLException {
    Map<String, List<RunState>> runs = new LinkedHashMap<>();
    Instant readAt;
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT run_id, state, now() FROM run_states
        WHERE completed AND archived_at IS NULL AND state IS NOT NULL AND run_id <> ALL(?)
        ORDER BY run_id LIMIT ?""")) {
      ps.setArray(1, c.createArrayOf("text", refused.toArray()));
      ps.setInt(2, limit);
      readAt = Instant.EPOCH;
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          runs.put(rs.getString(1), new ArrayList<>(List.of(PostgresRunStates.parse(rs.getBytes(2)))));
          readAt = rs.getTimestamp(3).toInstant();
        }
      }
    }
    if (runs.isEmpty()) {
      return new Batch(List.of(), readAt);
    }
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT run_id, state FROM run_state_history WHERE run_id = ANY(?) ORDER BY run_id, version")) {
      ps.setArray(1, c.createArrayOf("text", runs.keySet().toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          RunState kept = PostgresRunStates.parse(rs.getBytes(2));
          List<RunState> versions = runs.get(rs.getString(1));
          RunState last = versions.get(versions.size() - 1);
          if (kept.getVersion() < last.getVersion()) {
            versions.add(versions.size() - 1, kept);
          }
        }
      }
    }
    List<CompletedRun> out = new ArrayList<>(runs.size());
    runs.forEach((id, versions) -> out.add(new CompletedRun(id, List.copyOf(versions))));
    return new Batch(out, readAt);
  }

  /** ClickHouse holds these runs now: their states leave PostgreSQL, the rows say where they went. */
  public void remove(Connection c, List<CompletedRun> archived) throws SQLException {
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try (PreparedStatement mark = c.prepareStatement("UPDATE run_states SET state = NULL, archived_at = now() "
            + "WHERE run_id = ? AND version = ?");
        PreparedStatement history = c.prepareStatement(
            "DELETE FROM run_state_history WHERE run_id = ? AND version <= ?")) {
      for (CompletedRun run : archived) {
        mark.setString(1, run.runId());
        mark.setLong(2, run.last().getVersion());
        mark.addBatch();
        history.setString(1, run.runId());
        history.setLong(2, run.last().getVersion());
        history.addBatch();
      }
      mark.executeBatch();
      history.executeBatch();
      c.commit();
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(auto);
    }
  }
}
