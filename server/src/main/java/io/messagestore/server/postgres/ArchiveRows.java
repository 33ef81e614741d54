package io.messagestore.server.postgres;

import io.messagestore.api.v1.Message;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The PostgreSQL side of archiving: the lease that lets one archiver work at a time, the next
 * batch of messages past the hot retention, and the batch's removal. Every method runs on the
 * connection it is given (the archiver's own, so archiving never takes one of the request
 * path's pooled connections).
 *
 * <p>Messages are taken in id order: a UUIDv7 is its creation time, and the primary key orders
 * PostgreSQL's {@code uuid} type byte by byte, which is that time's order, so the oldest rows
 * come from an index range without a sort.
 */
public final class ArchiveRows {
  /** The name of the one archiver lease. */
  static final String LEASE = "archiver";
  /** {@link #backlog} counts no further: enough to see the archiver fall behind, cheap to count. */
  public static final long BACKLOG_COUNT_LIMIT = 1_000_000;

  /** Who archives, until when, and how their last run went. */
  public record Lease(String holder, Instant expiresAt, Optional<Instant> lastRunAt, long lastRunMessages,
      Optional<String> lastError) {}

  /**
   * Takes the lease for {@code holder}, or renews it if {@code holder} has it; true when
   * {@code holder} holds it until {@code now + ttl}. The database's clock decides expiry, so
   * gateways with skewed clocks agree.
   */
  public boolean acquire(Connection c, String holder, Duration ttl) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        INSERT INTO archiver_lease AS l (name, holder, acquired_at, expires_at)
        VALUES (?, ?, now(), now() + ? * interval '1 millisecond')
        ON CONFLICT (name) DO UPDATE
          SET holder = EXCLUDED.holder,
              acquired_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.acquired_at ELSE now() END,
              expires_at = EXCLUDED.expires_at
          WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()
        RETURNING holder""")) {
      ps.setString(1, LEASE);
      ps.setString(2, holder);
      ps.setLong(3, ttl.toMillis());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** Gives the lease up at once (a clean stop), so another instance need not wait for it to expire. */
  public void release(Connection c, String holder) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "UPDATE archiver_lease SET expires_at = now() WHERE name = ? AND holder = ?")) {
      ps.setString(1, LEASE);
      ps.setString(2, holder);
      ps.executeUpdate();
    }
  }

  /** Records how a run of {@code holder} went; {@code error} null for a good one. */
  public void recordRun(Connection c, String holder, long messages, String error) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        UPDATE archiver_lease SET last_run_at = now(), last_run_messages = ?, last_error = ?
        WHERE name = ? AND holder = ?""")) {
      ps.setLong(1, messages);
      ps.setString(2, error);
      ps.setString(3, LEASE);
      ps.setString(4, holder);
      ps.executeUpdate();
    }
  }

  /** The lease as it stands, if any archiver ever held it. */
  public Optional<Lease> lease(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT holder, expires_at, last_run_at, last_run_messages, last_error FROM archiver_lease WHERE name = ?")) {
      ps.setString(1, LEASE);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        Timestamp lastRun = rs.getTimestamp("last_run_at");
        return Optional.of(new Lease(rs.getString("holder"), rs.getTimestamp("expires_at").toInstant(),
            Optional.ofNullable(lastRun).map(Timestamp::toInstant), rs.getLong("last_run_messages"),
            Optional.ofNullable(rs.getString("last_error"))));
      }
    }
  }

  /** A batch and when the database read it (its clock, as erasures record theirs). */
  public record Batch(List<Message> messages, Instant readAt) {}

  /**
   * Up to {@code limit} messages with ids below {@code cutoffId}, oldest first, leaving out
   * {@code skipped} (messages ClickHouse keeps refusing, which must not hold up the rest).
   */
  public Batch nextBatch(Connection c, String cutoffId, int limit, Collection<String> skipped) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + MessageRows.COLUMNS + ", now() AS read_at"
        + " FROM messages WHERE message_id < ?::uuid AND message_id <> ALL(?::uuid[]) ORDER BY message_id LIMIT ?")) {
      ps.setString(1, cutoffId);
      ps.setArray(2, c.createArrayOf("uuid", skipped.toArray()));
      ps.setInt(3, limit);
      List<Message> batch = new ArrayList<>(limit);
      Instant readAt = null;
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          batch.add(MessageRows.read(rs));
          readAt = rs.getTimestamp("read_at").toInstant();
        }
      }
      return new Batch(batch, readAt == null ? Instant.EPOCH : readAt);
    }
  }

  /**
   * Deletes the archived messages and raises their threads' {@code archived_messages} by what
   * was deleted, in one statement: a reader sees either the rows here and the old count, or
   * neither and the new count (which sends it to the archive). Returns the rows deleted (fewer
   * than given when some went meanwhile, e.g. with an erased thread).
   *
   * <p>A thread erased since {@code readAt} may have had its ClickHouse rows erased before this
   * batch's copy landed there; its erasure is put back to be run again.
   */
  public long remove(Connection c, Collection<Message> archived, Instant readAt) throws SQLException {
    if (archived.isEmpty()) {
      return 0;
    }
    try (PreparedStatement ps = c.prepareStatement("""
        WITH gone AS (
          DELETE FROM messages WHERE message_id = ANY(?::uuid[]) RETURNING thread_id
        ), counted AS (
          SELECT thread_id, count(*) AS n FROM gone GROUP BY thread_id
        ), raised AS (
          UPDATE threads t SET archived_messages = t.archived_messages + counted.n
          FROM counted WHERE t.thread_id = counted.thread_id
        ), reopened AS (
          UPDATE thread_erasures SET clickhouse_submitted = NULL, clickhouse_done = NULL
          WHERE thread_id = ANY(?) AND erased_at >= ?
        )
        SELECT coalesce(sum(n), 0) FROM counted""")) {
      ps.setArray(1, c.createArrayOf("uuid", archived.stream().map(Message::getMessageId).toArray()));
      ps.setArray(2, c.createArrayOf("text", archived.stream().map(Message::getThreadId).distinct().toArray()));
      ps.setTimestamp(3, Timestamp.from(readAt));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** Messages past the retention still here, counted up to {@link #BACKLOG_COUNT_LIMIT}. */
  public long backlog(Connection c, String cutoffId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT count(*) FROM (SELECT 1 FROM messages WHERE message_id < ?::uuid LIMIT ?) AS due")) {
      ps.setString(1, cutoffId);
      ps.setLong(2, BACKLOG_COUNT_LIMIT);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** The id of the oldest message still in PostgreSQL, if any. */
  public Optional<String> oldestId(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT message_id::text FROM messages ORDER BY message_id LIMIT 1");
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
    }
  }
}
