package io.messagestore.server.postgres;

import com.google.protobuf.InvalidProtocolBufferException;
import io.messagestore.api.v1.RunState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * Run-state checkpoints in PostgreSQL ({@code run_states}, {@code run_state_history}; migration
 * V6 explains the columns). Every method is blocking; call it off the event loop.
 *
 * <p>A newer version always wins: no statement here replaces a checkpoint with an older one, so
 * checkpoints of one run that race (a background one and a synchronous one) end with the newest.
 */
public final class PostgresRunStates {
  private static final String UPSERT = """
      INSERT INTO run_states AS r (run_id, user_id, version, state, completed, tip)
      VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (run_id) DO UPDATE SET version = EXCLUDED.version, state = EXCLUDED.state,
        completed = EXCLUDED.completed, tip = EXCLUDED.tip AND EXCLUDED.version >= r.fence, checkpointed_at = now()
      WHERE r.version < EXCLUDED.version AND r.archived_at IS NULL""";
  private static final String HISTORY = """
      INSERT INTO run_state_history (run_id, version, state) VALUES (?, ?, ?) ON CONFLICT DO NOTHING""";

  private final PostgresTier tier;

  public PostgresRunStates(PostgresTier tier) {
    this.tier = tier;
  }

  /**
   * A run's row. {@code state} is null when the row only carries a fence (no checkpoint yet) or
   * the run is archived to ClickHouse.
   */
  public record Row(String owner, long version, RunState state, boolean completed, boolean tip, boolean archived) {
    /** Whether PostgreSQL holds a checkpoint of the run (or knows it went to the archive). */
    public boolean exists() {
      return state != null || archived;
    }
  }

  public Optional<Row> latest(String runId) throws SQLException {
    try (Connection c = tier.connection();
        PreparedStatement ps = c.prepareStatement("SELECT user_id, version, state, completed, tip, "
            + "archived_at IS NOT NULL FROM run_states WHERE run_id = ?")) {
      ps.setString(1, runId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(row(rs)) : Optional.empty();
      }
    }
  }

  /** A version kept by {@code CHECKPOINT_FULL}. */
  public Optional<RunState> version(String runId, long version) throws SQLException {
    try (Connection c = tier.connection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT state FROM run_state_history WHERE run_id = ? AND version = ?")) {
      ps.setString(1, runId);
      ps.setLong(2, version);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(parse(rs.getBytes(1))) : Optional.empty();
      }
    }
  }

  /**
   * A synchronous checkpoint of a version Redis has taken already; with {@code history} the
   * version is kept too. Is the tip unless a write to Redis alone claimed a version at or above
   * it meanwhile (the fence).
   *
   * @return false when PostgreSQL holds this or a newer version already
   */
  public boolean checkpointAfterRedis(RunState s, boolean history) throws SQLException {
    if (!history) {
      try (Connection c = tier.connection(); PreparedStatement ps = c.prepareStatement(UPSERT)) {
        bindUpsert(ps, s, true);
        return ps.executeUpdate() > 0;
      }
    }
    return inTransaction(c -> {
      boolean applied;
      try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
        bindUpsert(ps, s, true);
        applied = ps.executeUpdate() > 0;
      }
      keep(c, s);
      return applied;
    });
  }

  /**
   * A synchronous checkpoint that comes before Redis takes the version: applied only while
   * PostgreSQL is not ahead of {@code redisVersion} and no write to Redis alone has claimed the
   * next version (the fence), so that Redis can then take it without a conflict.
   *
   * @return false when it was not applied (nothing was written)
   */
  public boolean checkpointBeforeRedis(RunState s, boolean history, long redisVersion) throws SQLException {
    return inTransaction(c -> {
      try (PreparedStatement ps = c.prepareStatement(UPSERT + " AND r.fence <= ?")) {
        bindUpsert(ps, s, true);
        ps.setLong(7, redisVersion);
        if (ps.executeUpdate() == 0) {
          return false;
        }
      }
      if (history) {
        keep(c, s);
      }
      return true;
    });
  }

  /** Background checkpoints (CHECKPOINT_AUTO, completed runs): never the tip. */
  public void checkpointInBackground(List<RunState> states) throws SQLException {
    try (Connection c = tier.connection(); PreparedStatement ps = c.prepareStatement(UPSERT)) {
      for (RunState s : states) {
        bindUpsert(ps, s, false);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /**
   * Before a version goes to Redis alone after synchronous ones: PostgreSQL stops being the tip,
   * and the fence keeps a synchronous checkpoint still on its way from claiming it again.
   *
   * @return false when PostgreSQL already holds {@code newVersion} or a newer one (written while
   *     Redis was down): Redis's copy is older and must be replaced first
   */
  public boolean revokeTip(String runId, String owner, long newVersion) throws SQLException {
    try (Connection c = tier.connection();
        PreparedStatement ps = c.prepareStatement("""
            INSERT INTO run_states AS r (run_id, user_id, version, fence) VALUES (?, ?, 0, ?)
            ON CONFLICT (run_id) DO UPDATE SET tip = false, fence = greatest(r.fence, EXCLUDED.fence)
            WHERE r.version < EXCLUDED.fence
            RETURNING version""")) {
      ps.setString(1, runId);
      ps.setString(2, owner);
      ps.setLong(3, newVersion);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** What a write through PostgreSQL alone (Redis down) found. */
  public sealed interface Failover {
    record Written(RunState state) implements Failover {}

    /** PostgreSQL cannot prove it holds the newest version, or has no checkpoint at all. */
    record NotProvable(Optional<Row> row) implements Failover {}
  }

  /**
   * A write while Redis is down: applied only to a run whose newest version PostgreSQL provably
   * holds (tip), as the next version, with the run marked for the Redis repair. The caller
   * checks the returned row when it is {@link Failover.NotProvable}, and {@code check} is
   * given the locked row first (owner, completion, expected version) and throws to refuse.
   */
  public Failover writeAroundRedis(String runId, boolean history, Consumer<Row> check,
      LongFunction<RunState> build) throws SQLException {
    return inTransaction(c -> {
      Row row;
      try (PreparedStatement ps = c.prepareStatement("SELECT user_id, version, state, completed, tip, "
          + "archived_at IS NOT NULL FROM run_states WHERE run_id = ? FOR UPDATE")) {
        ps.setString(1, runId);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return new Failover.NotProvable(Optional.empty());
          }
          row = row(rs);
        }
      }
      if (!row.tip() || row.state() == null) {
        return new Failover.NotProvable(Optional.of(row));
      }
      check.accept(row);
      RunState next = build.apply(row.version() + 1);
      try (PreparedStatement ps = c.prepareStatement("UPDATE run_states SET version = ?, state = ?, "
          + "completed = ?, redis_repair = true, checkpointed_at = now() WHERE run_id = ?")) {
        ps.setLong(1, next.getVersion());
        ps.setBytes(2, next.toByteArray());
        ps.setBoolean(3, next.getCompleted());
        ps.setString(4, runId);
        ps.executeUpdate();
      }
      if (history) {
        keep(c, next);
      }
      return new Failover.Written(next);
    });
  }

  /** Runs written while Redis was down whose Redis copy is not repaired yet. */
  public List<Row> awaitingRedisRepair(int limit) throws SQLException {
    try (Connection c = tier.connection();
        PreparedStatement ps = c.prepareStatement("SELECT user_id, version, state, completed, tip, false "
            + "FROM run_states WHERE redis_repair AND state IS NOT NULL LIMIT ?")) {
      ps.setInt(1, limit);
      List<Row> rows = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(row(rs));
        }
      }
      return rows;
    }
  }

  /** Clears the repair mark, unless a newer write around Redis came meanwhile. */
  public void repairedInRedis(String runId, long version) throws SQLException {
    try (Connection c = tier.connection();
        PreparedStatement ps = c.prepareStatement(
            "UPDATE run_states SET redis_repair = false WHERE run_id = ? AND version = ?")) {
      ps.setString(1, runId);
      ps.setLong(2, version);
      ps.executeUpdate();
    }
  }

  /** Work on one connection, committed when it returns (whatever it returns), rolled back when it throws. */
  private interface InTransaction<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T inTransaction(InTransaction<T> work) throws SQLException {
    try (Connection c = tier.connection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    }
  }

  private static void bindUpsert(PreparedStatement ps, RunState s, boolean tip) throws SQLException {
    ps.setString(1, s.getRunId());
    ps.setString(2, s.getUserId());
    ps.setLong(3, s.getVersion());
    ps.setBytes(4, s.toByteArray());
    ps.setBoolean(5, s.getCompleted());
    ps.setBoolean(6, tip);
  }

  private static void keep(Connection c, RunState s) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(HISTORY)) {
      ps.setString(1, s.getRunId());
      ps.setLong(2, s.getVersion());
      ps.setBytes(3, s.toByteArray());
      ps.executeUpdate();
    }
  }

  private static Row row(ResultSet rs) throws SQLException {
    byte[] state = rs.getBytes(3);
    return new Row(rs.getString(1), rs.getLong(2), state == null ? null : parse(state), rs.getBoolean(4),
        rs.getBoolean(5), rs.getBoolean(6));
  }

  static RunState parse(byte[] bytes) throws SQLException {
    try {
      return RunState.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new SQLException("a stored run state does not parse: " + e.getMessage(), "XX001", e);
    }
  }
}
