package io.messagestore.server.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Analytics facts waiting for ClickHouse ({@code analytics_outbox_batches}), queued by the
 * statement that stores their messages, one outbox row per statement holding its messages'
 * facts as arrays. The feed takes the oldest batches, copies their facts, and removes exactly
 * what it copied: a batch copied whole is deleted, one copied in part keeps the rest. Batches
 * committed meanwhile with lower sequence numbers (a slower transaction) wait for the next round
 * instead of being skipped by a cursor. Facts of erased messages (DeleteThread) are left out when
 * read, and leave with their batch.
 */
public final class AnalyticsOutbox {

  /**
   * One message's facts.
   *
   * @param seq its batch
   * @param ordinal its place in the batch (1-based)
   * @param taken how many facts of its batch this read returned (erased ones are left out)
   */
  public record Row(long seq, int ordinal, int taken, String messageId, String threadId, String userId, int role,
      long contentBytes, long createdMs) {

    /**
     * Unique while the row waits: batch and message (not its place, which moves when the batch
     * is rewritten without the facts copied around a refused one).
     */
    public String id() {
      return seq + ":" + messageId;
    }
  }

  /** Rows taken, and when the database read them. */
  public record Taken(List<Row> rows, Instant readAt) {}

  /**
   * The facts of the oldest batches, oldest first: whole batches, as many as it takes to reach
   * {@code limit} facts (at least one batch), each left out when its thread was erased past it.
   */
  public Taken take(Connection c, int limit) throws SQLException {
    List<Row> rows = new ArrayList<>();
    List<Long> onlyErased = new ArrayList<>();
    Instant readAt = Instant.EPOCH;
    try (PreparedStatement ps = c.prepareStatement("""
        WITH oldest AS (
          SELECT seq, message_ids, thread_ids, user_ids, roles, content_bytes, created_at,
                 sum(cardinality(message_ids)) OVER (ORDER BY seq) - cardinality(message_ids) AS before
          FROM (SELECT * FROM analytics_outbox_batches ORDER BY seq LIMIT ?) b
        )
        SELECT o.seq, f.ordinal::int, (count(f.message_id) OVER (PARTITION BY o.seq))::int, f.message_id::text,
               f.thread_id, f.user_id, f.role, f.content_bytes, (extract(epoch FROM f.created_at) * 1000)::bigint, now()
        FROM oldest o LEFT JOIN LATERAL (
          SELECT u.* FROM unnest(o.message_ids, o.thread_ids, o.user_ids, o.roles, o.content_bytes, o.created_at)
                 WITH ORDINALITY AS u(message_id, thread_id, user_id, role, content_bytes, created_at, ordinal)
          WHERE NOT EXISTS (SELECT 1 FROM thread_erasures e
                            WHERE e.thread_id = u.thread_id AND u.message_id <= e.erased_through)
        ) f ON true
        WHERE o.before < ?
        ORDER BY o.seq, f.ordinal""")) {
      // A batch holds at least one fact: this many batches always reach the limit.
      ps.setInt(1, Math.max(1, limit));
      ps.setInt(2, Math.max(1, limit));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          readAt = rs.getTimestamp(10).toInstant();
          if (rs.getString(4) == null) {
            onlyErased.add(rs.getLong(1));
            continue;
          }
          rows.add(new Row(rs.getLong(1), rs.getInt(2), rs.getInt(3), rs.getString(4), rs.getString(5),
              rs.getString(6), rs.getShort(7), rs.getLong(8), rs.getLong(9)));
        }
      }
    }
    if (!onlyErased.isEmpty()) {
      // Nothing in them is to be copied: left, they would fill every later read's window.
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM analytics_outbox_batches WHERE seq = ANY(?)")) {
        ps.setArray(1, c.createArrayOf("bigint", onlyErased.toArray()));
        ps.executeUpdate();
      }
    }
    return new Taken(rows, readAt);
  }

  /**
   * Removes the facts that were copied: batches copied whole go, the others keep what was not
   * copied. A thread erased since {@code readAt} may have had its analytics rows erased in
   * ClickHouse before these landed; its erasure is put back to run again.
   */
  public void remove(Connection c, List<Row> copied, Instant readAt) throws SQLException {
    if (copied.isEmpty()) {
      return;
    }
    Map<Long, List<Row>> bySeq = new HashMap<>();
    copied.forEach(r -> bySeq.computeIfAbsent(r.seq(), s -> new ArrayList<>()).add(r));
    List<Long> whole = new ArrayList<>();
    for (Map.Entry<Long, List<Row>> e : bySeq.entrySet()) {
      if (e.getValue().size() == e.getValue().get(0).taken()) {
        whole.add(e.getKey());
      } else {
        keepUncopied(c, e.getKey(), e.getValue());
      }
    }
    try (PreparedStatement ps = c.prepareStatement("""
        WITH gone AS (DELETE FROM analytics_outbox_batches WHERE seq = ANY(?))
        UPDATE thread_erasures SET clickhouse_submitted = NULL, clickhouse_done = NULL
        WHERE thread_id = ANY(?) AND erased_at >= ?""")) {
      ps.setArray(1, c.createArrayOf("bigint", whole.toArray()));
      ps.setArray(2, c.createArrayOf("text", copied.stream().map(Row::threadId).distinct().toArray()));
      ps.setTimestamp(3, java.sql.Timestamp.from(readAt));
      ps.executeUpdate();
    }
  }

  /** Rewrites batch {@code seq} without the facts that were copied (a refused one stays). */
  private static void keepUncopied(Connection c, long seq, List<Row> copied) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        UPDATE analytics_outbox_batches b
        SET message_ids = k.message_ids, thread_ids = k.thread_ids, user_ids = k.user_ids, roles = k.roles,
            content_bytes = k.content_bytes, created_at = k.created_at
        FROM (SELECT array_agg(f.message_id ORDER BY f.ordinal) AS message_ids,
                     array_agg(f.thread_id ORDER BY f.ordinal) AS thread_ids,
                     array_agg(f.user_id ORDER BY f.ordinal) AS user_ids,
                     array_agg(f.role ORDER BY f.ordinal) AS roles,
                     array_agg(f.content_bytes ORDER BY f.ordinal) AS content_bytes,
                     array_agg(f.created_at ORDER BY f.ordinal) AS created_at
              FROM analytics_outbox_batches o,
                   unnest(o.message_ids, o.thread_ids, o.user_ids, o.roles, o.content_bytes, o.created_at)
                     WITH ORDINALITY AS f(message_id, thread_id, user_id, role, content_bytes, created_at, ordinal)
              WHERE o.seq = ? AND f.ordinal <> ALL(?)) k
        WHERE b.seq = ? AND k.message_ids IS NOT NULL""")) {
      ps.setLong(1, seq);
      ps.setArray(2, c.createArrayOf("int8", copied.stream().map(r -> (long) r.ordinal()).toArray()));
      ps.setLong(3, seq);
      ps.executeUpdate();
    }
  }

  /**
   * How many facts wait. Summed over the batches: the outbox is short while ClickHouse keeps
   * up, and a ClickHouse outage of hours leaves thousands of batches, not millions of rows.
   */
  public long backlog(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT coalesce(sum(cardinality(message_ids)), 0) FROM analytics_outbox_batches");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
