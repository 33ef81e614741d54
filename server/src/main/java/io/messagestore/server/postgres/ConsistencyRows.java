package io.messagestore.server.postgres;

import io.messagestore.api.v1.Message;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * What the consistency checker reads from and repairs in PostgreSQL. Reads take the connection of
 * the check (one of its own, outside the pool: a long check must not hold a request-path
 * connection); repairs are short and take one from the pool.
 */
public final class ConsistencyRows {
  /** A thread row and its stored rows, read in one statement (one snapshot). */
  public record ThreadRow(String owner, long messageCount, long archivedMessages, long rows, Instant createdAt) {
    /** What {@code message_count} should be: rows here plus rows moved to the archive. */
    public long expectedCount() {
      return rows + archivedMessages;
    }
  }

  /** A message id and its thread. */
  public record MessageRef(String threadId, String messageId) {}

  private final PostgresTier tier;

  public ConsistencyRows(PostgresTier tier) {
    this.tier = tier;
  }

  /** A connection for one check's reads; the caller closes it. */
  public Connection readConnection() throws SQLException {
    Connection c = tier.dedicatedConnection();
    c.setReadOnly(true);
    return c;
  }

  /**
   * Up to {@code limit} messages with ids strictly between the bounds, in id order; of one thread
   * when {@code threadId} is not null (the thread index serves it), else of every thread (the
   * primary key does).
   */
  public List<Message> page(Connection c, String threadId, String afterId, String beforeId, int limit)
      throws SQLException {
    String sql = "SELECT " + MessageRows.COLUMNS + " FROM messages WHERE "
        + (threadId == null ? "" : "thread_id = ? AND ")
        + "message_id > ?::uuid AND message_id < ?::uuid ORDER BY message_id LIMIT ?";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int i = 1;
      if (threadId != null) {
        ps.setString(i++, threadId);
      }
      ps.setString(i++, afterId);
      ps.setString(i++, beforeId);
      ps.setInt(i, limit);
      List<Message> out = new ArrayList<>(limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(MessageRows.read(rs));
        }
      }
      return out;
    }
  }

  /** Which of the ids have a row. */
  public Set<String> existing(Connection c, Collection<String> messageIds) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT message_id::text FROM messages WHERE message_id = ANY(?::uuid[])")) {
      ps.setArray(1, c.createArrayOf("uuid", messageIds.stream().map(UUID::fromString).toArray(UUID[]::new)));
      Set<String> found = new HashSet<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          found.add(rs.getString(1));
        }
      }
      return found;
    }
  }

  /** Which of the ids have a row now (on a pooled connection, after a repair). */
  public Set<String> existingNow(Collection<String> messageIds) throws SQLException {
    try (Connection c = tier.connection()) {
      return existing(c, messageIds);
    }
  }

  /** The rows of the given messages of one thread. */
  public List<Message> byIds(Connection c, String threadId, Collection<String> messageIds) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + MessageRows.COLUMNS
        + " FROM messages WHERE thread_id = ? AND message_id = ANY(?::uuid[]) ORDER BY message_id")) {
      ps.setString(1, threadId);
      ps.setArray(2, c.createArrayOf("uuid", messageIds.stream().map(UUID::fromString).toArray(UUID[]::new)));
      List<Message> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(MessageRows.read(rs));
        }
      }
      return out;
    }
  }

  /** The thread's row and how many messages it has here, in one snapshot; empty without a row. */
  public Optional<ThreadRow> thread(Connection c, String threadId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT t.user_id, t.message_count, t.archived_messages,
               (SELECT count(*) FROM messages m WHERE m.thread_id = t.thread_id), t.created_at
        FROM threads t WHERE t.thread_id = ?""")) {
      ps.setString(1, threadId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(new ThreadRow(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4),
                rs.getTimestamp(5).toInstant()))
            : Optional.empty();
      }
    }
  }

  /**
   * Threads that may hold messages created in the window (active since it began, created before
   * it ended), after {@code afterThread} in thread order.
   */
  public List<String> threadsActiveIn(Connection c, Instant start, Instant end, String afterThread, int limit)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT thread_id FROM threads
        WHERE last_activity_at >= ? AND created_at <= ? AND thread_id > ?
        ORDER BY thread_id LIMIT ?""")) {
      ps.setTimestamp(1, java.sql.Timestamp.from(start));
      ps.setTimestamp(2, java.sql.Timestamp.from(end));
      ps.setString(3, afterThread);
      ps.setInt(4, limit);
      List<String> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
      return out;
    }
  }

  /**
   * About {@code n} messages picked at random with ids between the bounds: {@code n} random points
   * between the oldest and the newest of them, each taking the message nearest it on one side
   * (the next one for half the points, the previous one for the other half). One index probe per
   * point, so a sample costs the same on a table of any size; a message after (or before) a quiet
   * spell is picked more often than one in a burst, which a sampler can live with.
   */
  public List<MessageRef> sample(String fromId, String toId, int n) throws SQLException {
    try (Connection c = tier.connection()) {
      UUID oldest = edge(c, fromId, toId, "ASC");
      UUID newest = edge(c, fromId, toId, "DESC");
      if (oldest == null) {
        return List.of();
      }
      long from = oldest.getMostSignificantBits() >>> 16;
      long span = Math.max(1, (newest.getMostSignificantBits() >>> 16) - from + 1);
      java.util.SplittableRandom random = new java.util.SplittableRandom();
      UUID[] points = new UUID[n];
      for (int i = 0; i < n; i++) {
        points[i] = new UUID((from + random.nextLong(span)) << 16, random.nextLong());
      }
      try (PreparedStatement ps = c.prepareStatement("""
          SELECT DISTINCT m.thread_id, m.message_id::text
          FROM unnest(?::uuid[]) WITH ORDINALITY AS p(id, i),
               LATERAL (SELECT thread_id, message_id FROM messages
                        WHERE p.i % 2 = 0 AND message_id >= p.id AND message_id <= ?::uuid
                        ORDER BY message_id LIMIT 1) m
          UNION
          SELECT DISTINCT m.thread_id, m.message_id::text
          FROM unnest(?::uuid[]) WITH ORDINALITY AS p(id, i),
               LATERAL (SELECT thread_id, message_id FROM messages
                        WHERE p.i % 2 = 1 AND message_id <= p.id AND message_id >= ?::uuid
                        ORDER BY message_id DESC LIMIT 1) m""")) {
        ps.setArray(1, c.createArrayOf("uuid", points));
        ps.setObject(2, newest);
        ps.setArray(3, c.createArrayOf("uuid", points));
        ps.setObject(4, oldest);
        List<MessageRef> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new MessageRef(rs.getString(1), rs.getString(2)));
          }
        }
        return out;
      }
    }
  }

  private static UUID edge(Connection c, String fromId, String toId, String order) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT message_id FROM messages WHERE message_id >= ?::uuid"
        + " AND message_id < ?::uuid ORDER BY message_id " + order + " LIMIT 1")) {
      ps.setString(1, fromId);
      ps.setString(2, toId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? (UUID) rs.getObject(1) : null;
      }
    }
  }

  /** Gives the row of {@code m} the content, role, user and metadata of {@code m}; false when it has no row. */
  public boolean overwrite(Message m) throws SQLException {
    try (Connection c = tier.connection();
        PreparedStatement ps = c.prepareStatement("""
            UPDATE messages SET user_id = ?, role = ?, content = ?, metadata = ?::jsonb
            WHERE message_id = ?::uuid AND thread_id = ?""")) {
      ps.setString(1, m.getUserId());
      ps.setShort(2, (short) m.getRoleValue());
      ps.setString(3, m.getContent());
      ps.setString(4, MessageRows.metadataJson(m));
      ps.setString(5, m.getMessageId());
      ps.setString(6, m.getThreadId());
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * Sets the threads' {@code message_count} to their rows here plus their archived rows, under the
   * lock an erasure takes, so that no insert commits between the count and the update (its own
   * increment would be lost). Returns the threads whose count changed.
   */
  public Set<String> recount(Collection<String> threadIds) throws SQLException {
    Set<String> changed = new HashSet<>();
    try (Connection c = tier.connection()) {
      c.setAutoCommit(false);
      try {
        for (String thread : threadIds.stream().sorted().distinct().toList()) {
          try (PreparedStatement lock = c.prepareStatement(ThreadErasures.LOCK_THREAD_FOR_ERASURE)) {
            lock.setString(1, thread);
            lock.executeQuery().close();
          }
          try (PreparedStatement ps = c.prepareStatement("""
              UPDATE threads t SET message_count = t.archived_messages
                + (SELECT count(*) FROM messages m WHERE m.thread_id = t.thread_id)
              WHERE t.thread_id = ? AND t.message_count <> t.archived_messages
                + (SELECT count(*) FROM messages m WHERE m.thread_id = t.thread_id)""")) {
            ps.setString(1, thread);
            if (ps.executeUpdate() > 0) {
              changed.add(thread);
            }
          }
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
    return changed;
  }

  /**
   * Deletes rows that the archive holds with the same content, as the archiver does after its
   * read-back (raising the threads' archived counts by what was deleted). Returns rows deleted.
   */
  public long removeArchived(Collection<Message> archived, Instant readAt) throws SQLException {
    try (Connection c = tier.connection()) {
      return new ArchiveRows().remove(c, archived, readAt);
    }
  }
}
