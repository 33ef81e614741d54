package io.messagestore.server.postgres;

import io.messagestore.api.v1.Message;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/** Message and thread rows in PostgreSQL. Every method is blocking; call it off the event loop. */
public final class PostgresMessageStore {

  /**
   * One statement per batch: the messages go in through {@code unnest} of arrays (so a batch of
   * 500 is one round trip and one plan), duplicates are skipped, and the owning threads' counts
   * and activity move by exactly the rows that were new. The new rows also queue their analytics
   * facts, in one outbox row for the statement (so none is ever missing), and messages of an
   * erased thread's old incarnation are skipped (so an erasure is never undone by a persister
   * or a failover write that still held them; {@link ThreadErasures#LOCK_THREADS_FOR_INSERT}
   * runs first). Thread rows are locked in
   * thread order, so that concurrent inserts touching the same threads wait for each other
   * instead of deadlocking.
   */
  private static final String INSERT_CTES = """
      WITH input AS (
        SELECT * FROM unnest(?::uuid[], ?::text[], ?::text[], ?::int2[], ?::text[], ?::text[], ?::text[], ?::int8[])
          AS t(message_id, thread_id, user_id, role, content, metadata, idempotency_key, created_ms)
      ), ins AS (
        INSERT INTO messages (message_id, thread_id, user_id, role, content, metadata, idempotency_key, created_at)
        SELECT message_id, thread_id, user_id, role, content, metadata::jsonb, idempotency_key,
               timestamptz 'epoch' + created_ms * interval '1 millisecond'
        FROM input
        WHERE NOT EXISTS (SELECT 1 FROM thread_erasures e
                          WHERE e.thread_id = input.thread_id AND input.message_id <= e.erased_through)
        ON CONFLICT DO NOTHING
        RETURNING message_id, thread_id, user_id, created_at, role, octet_length(content) AS content_bytes
      ), counted AS (
        INSERT INTO threads AS t (thread_id, user_id, created_at, last_activity_at, message_count)
        SELECT thread_id, min(user_id), min(created_at), max(created_at), count(*) FROM ins
        GROUP BY thread_id ORDER BY thread_id
        ON CONFLICT (thread_id) DO UPDATE
          SET message_count = t.message_count + EXCLUDED.message_count,
              last_activity_at = greatest(t.last_activity_at, EXCLUDED.last_activity_at)
      ), facts AS (
        INSERT INTO analytics_outbox_batches (message_ids, thread_ids, user_ids, roles, content_bytes, created_at)
        SELECT array_agg(message_id), array_agg(thread_id), array_agg(user_id), array_agg(role),
               array_agg(content_bytes), array_agg(created_at)
        FROM ins HAVING count(*) > 0
      )
      """;
  private static final String INSERT_BATCH = INSERT_CTES + "SELECT message_id::text FROM ins";
  /**
   * The same for messages that Redis could not take (failover, {@link FailoverRows}), marking
   * their threads for the Redis repair in the same statement, so no such message is ever
   * committed without its mark; a thread's mark is written once per statement, however many of
   * its messages the statement holds.
   */
  static final String INSERT_BATCH_MARKING_REDIS_REPAIR = INSERT_CTES.stripTrailing() + """
      , marked AS (
        INSERT INTO redis_repairs AS r (thread_id, user_id)
        SELECT thread_id, min(user_id) FROM ins GROUP BY thread_id ORDER BY thread_id
        ON CONFLICT (thread_id) DO UPDATE SET generation = r.generation + 1, marked_at = now()
      )
      SELECT message_id::text FROM ins
      """;

  /**
   * Takes the key off messages older than the time to live of a key, counted back from the
   * message that now uses it: Redis forgets a key after that, so PostgreSQL, which keeps keys
   * with their messages, must not answer a later use of it as a duplicate.
   */
  private static final String RELEASE_EXPIRED_KEYS = """
      UPDATE messages m SET idempotency_key = NULL
      FROM unnest(?::text[], ?::text[], ?::int8[]) AS k(thread_id, idempotency_key, used_ms)
      WHERE m.thread_id = k.thread_id AND m.idempotency_key = k.idempotency_key
        AND m.created_at < timestamptz 'epoch' + (k.used_ms - ?) * interval '1 millisecond'
      """;

  private final PostgresTier tier;
  private final Duration idempotencyTtl;

  public PostgresMessageStore(PostgresTier tier, Duration idempotencyTtl) {
    this.tier = tier;
    this.idempotencyTtl = idempotencyTtl;
  }

  /**
   * Inserts messages that Redis acknowledged, skipping ones already stored (same id), with
   * their idempotency keys, so that a retry that fails over to PostgreSQL while Redis is down
   * is recognised. Each was acknowledged as new, so it is stored even when another message of
   * its thread holds its key already: a key reused after IDEMPOTENCY_TTL moves to the new
   * message; a key still held (a failover write of it that Redis had not heard of) stays, and
   * the new message is stored without it. Returns the ids that were new.
   *
   * @param idempotencyKeys one per message, null or empty for none; null for no keys at all
   */
  public Set<String> insert(Collection<Message> messages, Collection<String> idempotencyKeys) throws SQLException {
    Set<String> inserted = insert(INSERT_BATCH, messages, idempotencyKeys);
    if (inserted.size() == messages.size() || idempotencyKeys == null) {
      return inserted;
    }
    // Skipped: a repeated id (a redelivery, nothing to do) or a taken key. DO NOTHING waited for
    // any concurrent insert of that key to commit, so what is still missing now lost its key.
    Map<String, Message> skipped = new LinkedHashMap<>();
    Map<String, String> keyOf = new HashMap<>();
    Iterator<String> keys = idempotencyKeys.iterator();
    for (Message m : messages) {
      String key = keys.next();
      if (key != null && !key.isEmpty() && !inserted.contains(m.getMessageId())) {
        skipped.put(m.getMessageId(), m);
        keyOf.put(m.getMessageId(), key);
      }
    }
    if (skipped.isEmpty()) {
      return inserted;
    }
    skipped.keySet().removeAll(existing(List.copyOf(skipped.keySet())));
    if (skipped.isEmpty()) {
      return inserted;
    }
    List<Message> keyTaken = List.copyOf(skipped.values());
    List<String> takenKeys = keyTaken.stream().map(m -> keyOf.get(m.getMessageId())).toList();
    if (releaseExpiredKeys(keyTaken, takenKeys) > 0) {
      inserted.addAll(insert(INSERT_BATCH, keyTaken, takenKeys));
    }
    List<Message> stillTaken = keyTaken.stream().filter(m -> !inserted.contains(m.getMessageId())).toList();
    if (!stillTaken.isEmpty()) {
      inserted.addAll(insert(INSERT_BATCH, stillTaken, null));
    }
    return inserted;
  }

  /** See {@link #RELEASE_EXPIRED_KEYS}; returns how many messages lost their key. */
  private int releaseExpiredKeys(Collection<Message> messages, Collection<String> idempotencyKeys)
      throws SQLException {
    if (idempotencyKeys == null) {
      return 0;
    }
    List<String> threads = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    List<Long> usedAt = new ArrayList<>();
    Iterator<String> key = idempotencyKeys.iterator();
    for (Message m : messages) {
      String k = key.next();
      if (k != null && !k.isEmpty()) {
        threads.add(m.getThreadId());
        keys.add(k);
        usedAt.add(MessageRows.createdMillis(m));
      }
    }
    if (keys.isEmpty()) {
      return 0;
    }
    try (Connection c = tier.connection()) {
      return releaseExpiredKeys(c, threads, keys, usedAt);
    }
  }

  /** {@link #RELEASE_EXPIRED_KEYS} on {@code c}, in its transaction if it has one. */
  int releaseExpiredKeys(Connection c, List<String> threads, List<String> keys, List<Long> usedAt)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(RELEASE_EXPIRED_KEYS)) {
      ps.setArray(1, c.createArrayOf("text", threads.toArray()));
      ps.setArray(2, c.createArrayOf("text", keys.toArray()));
      ps.setArray(3, c.createArrayOf("int8", usedAt.toArray()));
      ps.setLong(4, idempotencyTtl.toMillis());
      return ps.executeUpdate();
    }
  }

  private Set<String> insert(String sql, Collection<Message> messages, Collection<String> idempotencyKeys)
      throws SQLException {
    // One round trip and one implicit transaction: the lock, then the INSERT with a fresh snapshot.
    try (Connection c = tier.connection()) {
      return insert(c, sql, messages, idempotencyKeys);
    }
  }

  /**
   * Runs the erasure lock and then {@code sql} (one of the inserts above, whose last result is
   * the new ids) on {@code c}, in one round trip; returns the ids that were new.
   */
  static Set<String> insert(Connection c, String sql, Collection<Message> messages, Collection<String> idempotencyKeys)
      throws SQLException {
    InsertColumns columns = InsertColumns.of(messages, idempotencyKeys);
    try (PreparedStatement ps = c.prepareStatement(ThreadErasures.LOCK_THREADS_FOR_INSERT + ";\n" + sql)) {
      ps.setArray(1, c.createArrayOf("text", columns.threads()));
      ps.setArray(2, c.createArrayOf("uuid", columns.ids()));
      ps.setArray(3, c.createArrayOf("text", columns.threads()));
      ps.setArray(4, c.createArrayOf("text", columns.users()));
      ps.setArray(5, c.createArrayOf("int2", columns.roles()));
      ps.setArray(6, c.createArrayOf("text", columns.contents()));
      ps.setArray(7, c.createArrayOf("text", columns.metadata()));
      ps.setArray(8, c.createArrayOf("text", columns.idempotencyKeys()));
      ps.setArray(9, c.createArrayOf("int8", columns.createdMillis()));
      ps.execute();
      if (!ps.getMoreResults()) {
        throw new SQLException("the insert after the erasure lock returned no result");
      }
      Set<String> inserted = new HashSet<>();
      try (ResultSet rs = ps.getResultSet()) {
        while (rs.next()) {
          inserted.add(rs.getString(1));
        }
      }
      return inserted;
    }
  }

  /** An idempotency key recorded in PostgreSQL, with the message it stands for. */
  public record IdempotencyKey(String key, String messageId, Instant createdAt) {}

  /** The thread's idempotency keys of messages created after {@code since}. */
  public List<IdempotencyKey> idempotencyKeysSince(String threadId, Instant since) throws SQLException {
    try (Connection c = tier.connection();
        PreparedStatement ps = c.prepareStatement("SELECT idempotency_key, message_id::text, created_at FROM messages"
            + " WHERE thread_id = ? AND idempotency_key IS NOT NULL AND created_at > ?")) {
      ps.setString(1, threadId);
      ps.setObject(2, since.atOffset(ZoneOffset.UTC));
      List<IdempotencyKey> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new IdempotencyKey(rs.getString(1), rs.getString(2),
              rs.getObject(3, OffsetDateTime.class).toInstant()));
        }
      }
      return out;
    }
  }

  /** A message by its ids (a cold GetMessage): message id, then thread id. */
  public static final String FIND = "SELECT " + MessageRows.COLUMNS
      + " FROM messages WHERE message_id = ?::uuid AND thread_id = ?";

  public Optional<Message> find(String threadId, String messageId) throws SQLException {
    return queryOne(FIND, messageId, threadId);
  }

  /**
   * The persisters' commit as the two statements it sends in one round trip (the erasure lock
   * of the batch's threads, then the insert with its thread counters and analytics rows), with
   * their parameters as {@link InsertColumns} (the lock takes its threads): for the PostgreSQL
   * driver A/B ({@code benchmarks/}), which must send exactly what the gateway sends.
   */
  public static List<String> persisterCommitStatements() {
    return List.of(ThreadErasures.LOCK_THREADS_FOR_INSERT, INSERT_BATCH);
  }

  /** Which of the ids are stored. */
  public Set<String> existing(Collection<String> messageIds) throws SQLException {
    try (Connection c = tier.connection();
        PreparedStatement ps = c.prepareStatement("SELECT message_id::text FROM messages WHERE message_id = ANY(?::uuid[])")) {
      Array arr = c.createArrayOf("uuid", messageIds.stream().map(UUID::fromString).toArray(UUID[]::new));
      ps.setArray(1, arr);
      Set<String> found = new HashSet<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          found.add(rs.getString(1));
        }
      }
      return found;
    }
  }

  /** The owner of a thread after a claim, and whether the claim created the thread. */
  public record ThreadClaim(String owner, boolean created) {}

  /**
   * Records {@code userId} as the owner of a new thread, or returns who owns it already.
   * The row is written before the thread's first message so ownership survives a Redis loss.
   * {@code created} means PostgreSQL had no row of the thread, hence none of its messages
   * either (persisters and failover writes create the row with their first message).
   */
  public ThreadClaim claimThread(String threadId, String userId) throws SQLException {
    try (Connection c = tier.connection();
        PreparedStatement ps = c.prepareStatement("""
            WITH claimed AS (
              INSERT INTO threads (thread_id, user_id) VALUES (?, ?)
              ON CONFLICT (thread_id) DO NOTHING RETURNING user_id
            )
            SELECT user_id, true FROM claimed UNION ALL SELECT user_id, false FROM threads WHERE thread_id = ?
            LIMIT 1
            """)) {
      ps.setString(1, threadId);
      ps.setString(2, userId);
      ps.setString(3, threadId);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return new ThreadClaim(rs.getString(1), rs.getBoolean(2));
        }
      }
      // A racing claim committed while this one waited for it: the insert did nothing, and this
      // statement's snapshot, taken before that commit, cannot see the winner's row. A new
      // statement (a new snapshot) can.
      try (PreparedStatement winner = c.prepareStatement("SELECT user_id FROM threads WHERE thread_id = ?")) {
        winner.setString(1, threadId);
        try (ResultSet rs = winner.executeQuery()) {
          if (!rs.next()) {
            throw new SQLException("thread '" + threadId + "' was claimed by a racing writer and is gone again");
          }
          return new ThreadClaim(rs.getString(1), false);
        }
      }
    }
  }

  /** The owner of a thread, if it has one. */
  public Optional<String> owner(String threadId) throws SQLException {
    try (Connection c = tier.connection();
        PreparedStatement ps = c.prepareStatement("SELECT user_id FROM threads WHERE thread_id = ?")) {
      ps.setString(1, threadId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    }
  }

  private Optional<Message> queryOne(String sql, String... params) throws SQLException {
    try (Connection c = tier.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setString(i + 1, params[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(MessageRows.read(rs)) : Optional.empty();
      }
    }
  }

  /** One page of a thread and how many of its messages are archived in ClickHouse. */
  public record Page(List<Message> messages, long archivedMessages) {}

  /**
   * Messages of a thread with ids strictly between the bounds (either may be null), in order.
   *
   * @param cancellation cancels the queries in PostgreSQL when the caller goes away
   */
  public Page pageWithArchiveCount(String threadId, String afterId, String beforeId, int limit, boolean newestFirst,
      QueryCancellation cancellation) throws SQLException {
    StringBuilder sql = new StringBuilder("SELECT " + MessageRows.COLUMNS + " FROM messages WHERE thread_id = ?");
    List<String> params = new ArrayList<>();
    params.add(threadId);
    if (afterId != null) {
      sql.append(" AND message_id > ?::uuid");
      params.add(afterId);
    }
    if (beforeId != null) {
      sql.append(" AND message_id < ?::uuid");
      params.add(beforeId);
    }
    sql.append(newestFirst ? " ORDER BY message_id DESC" : " ORDER BY message_id ASC").append(" LIMIT ").append(limit);
    try (Connection c = tier.connection()) {
      List<Message> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
        for (int i = 0; i < params.size(); i++) {
          ps.setString(i + 1, params.get(i));
        }
        try (ResultSet rs = QueryCancellation.executeQuery(ps, cancellation)) {
          while (rs.next()) {
            out.add(MessageRows.read(rs));
          }
        }
      }
      long archived = 0;
      try (PreparedStatement ps = c.prepareStatement("SELECT archived_messages FROM threads WHERE thread_id = ?")) {
        ps.setString(1, threadId);
        try (ResultSet rs = QueryCancellation.executeQuery(ps, cancellation)) {
          if (rs.next()) {
            archived = rs.getLong(1);
          }
        }
      }
      return new Page(out, archived);
    }
  }
}
