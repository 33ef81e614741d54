package io.messagestore.server.postgres;

import io.messagestore.api.v1.Message;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Failover writes (messages Redis could not take) of several callers, stored together: the
 * threads are claimed (the first writer of a new thread owns it) and their owners read, each
 * write its owner may not make is left out, the rest go in as one statement and transaction
 * that also marks their threads for the Redis repair ({@code consistency.FailoverRepair}), and
 * the first messages of repeated idempotency keys are read back. Every method is blocking.
 */
public final class FailoverRows {

  /** The messages of one request: all of one thread and one user, stored all or none. */
  public record Write(String threadId, String userId, List<Message> messages, List<String> idempotencyKeys) {}

  /**
   * What became of a write, valid once the transaction committed.
   *
   * @param owner the thread's owner
   * @param denied the owner may not take it: nothing of it was stored
   * @param inserted ids of its messages that were new
   * @param firstByKey for its keyed messages that were not new, the message the thread already
   *     holds under the key
   */
  public record Stored(String owner, boolean denied, Set<String> inserted, Map<String, Message> firstByKey) {}

  /** Whether a write's caller may write a thread of this owner. */
  @FunctionalInterface
  public interface Permission {
    boolean mayWrite(int write, String owner);
  }

  /**
   * Claims the threads that have no owner yet, for the user of their first write, and returns
   * every thread's owner: in a statement after the claim, so that a claim another transaction
   * committed meanwhile (its row is not in this statement's snapshot) is seen.
   */
  private static final String CLAIM_THREADS = """
      INSERT INTO threads (thread_id, user_id)
      SELECT thread_id, user_id FROM unnest(?::text[], ?::text[]) AS c(thread_id, user_id) ORDER BY thread_id
      ON CONFLICT (thread_id) DO NOTHING;
      SELECT thread_id, user_id FROM threads WHERE thread_id = ANY(?::text[])""";

  private static final String FIRST_BY_KEY = "SELECT idempotency_key, " + MessageRows.COLUMNS
      + " FROM messages WHERE (thread_id, idempotency_key) IN (SELECT * FROM unnest(?::text[], ?::text[]))";

  private final PostgresTier tier;
  private final PostgresMessageStore messages;

  public FailoverRows(PostgresTier tier, PostgresMessageStore messages) {
    this.tier = tier;
    this.messages = messages;
  }

  /**
   * Stores the writes; returns, per write and in order, what became of it. Three round trips at
   * most: the claim (committed on its own, like {@link PostgresMessageStore#claimThread}, so an
   * owner is recorded before the thread's first message), then the messages of every permitted
   * write in one statement and implicit transaction (all of them or none), then, only for keyed
   * messages that were not new, the messages holding their keys. Throws when PostgreSQL refuses
   * the statement: none of the messages is stored then.
   */
  public List<Stored> store(List<Write> writes, Permission permission) throws SQLException {
    try (Connection c = tier.connection()) {
      return store(c, writes, permission);
    }
  }

  private List<Stored> store(Connection c, List<Write> writes, Permission permission) throws SQLException {
    Map<String, String> owners = claim(c, writes);
    List<Message> rows = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    boolean[] denied = new boolean[writes.size()];
    for (int i = 0; i < writes.size(); i++) {
      Write w = writes.get(i);
      String owner = owners.get(w.threadId());
      denied[i] = owner == null || !permission.mayWrite(i, owner);
      if (!denied[i]) {
        rows.addAll(w.messages());
        keys.addAll(w.idempotencyKeys());
      }
    }
    Set<String> inserted = rows.isEmpty() ? Set.of() : insert(c, rows, keys);
    Map<String, Map<String, Message>> firsts = firstsOfRepeatedKeys(c, writes, denied, inserted);
    List<Stored> out = new ArrayList<>(writes.size());
    for (int i = 0; i < writes.size(); i++) {
      Write w = writes.get(i);
      String owner = owners.get(w.threadId());
      if (denied[i]) {
        out.add(new Stored(owner, true, Set.of(), Map.of()));
        continue;
      }
      Set<String> own = new HashSet<>();
      w.messages().forEach(m -> {
        if (inserted.contains(m.getMessageId())) {
          own.add(m.getMessageId());
        }
      });
      out.add(new Stored(owner, false, own, firsts.getOrDefault(w.threadId(), Map.of())));
    }
    return out;
  }

  /** The owner of every thread written, after claiming those without one. */
  private static Map<String, String> claim(Connection c, List<Write> writes) throws SQLException {
    Map<String, String> firstWriter = new LinkedHashMap<>();
    writes.forEach(w -> firstWriter.putIfAbsent(w.threadId(), w.userId()));
    String[] threads = firstWriter.keySet().toArray(new String[0]);
    try (PreparedStatement ps = c.prepareStatement(CLAIM_THREADS)) {
      ps.setArray(1, c.createArrayOf("text", threads));
      ps.setArray(2, c.createArrayOf("text", firstWriter.values().toArray()));
      ps.setArray(3, c.createArrayOf("text", threads));
      ps.execute();
      while (!ps.getMoreResults()) {
        if (ps.getUpdateCount() == -1) {
          throw new SQLException("the claim of the threads returned no owners");
        }
      }
      Map<String, String> owners = new HashMap<>();
      try (ResultSet rs = ps.getResultSet()) {
        while (rs.next()) {
          owners.put(rs.getString(1), rs.getString(2));
        }
      }
      return owners;
    }
  }

  private Set<String> insert(Connection c, List<Message> rows, List<String> keys) throws SQLException {
    // A key used more than its time to live ago is free again: take it off the old message first.
    List<String> keyThreads = new ArrayList<>();
    List<String> usedKeys = new ArrayList<>();
    List<Long> usedAt = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      String k = keys.get(i);
      if (k != null && !k.isEmpty()) {
        keyThreads.add(rows.get(i).getThreadId());
        usedKeys.add(k);
        usedAt.add(MessageRows.createdMillis(rows.get(i)));
      }
    }
    if (!usedKeys.isEmpty()) {
      messages.releaseExpiredKeys(c, keyThreads, usedKeys, usedAt);
    }
    return PostgresMessageStore.insert(c, PostgresMessageStore.INSERT_BATCH_MARKING_REDIS_REPAIR, rows, keys);
  }

  /**
   * Per thread, key → the message holding it, for the keyed messages that were not new (a
   * repeated key: a duplicate, or an id stored before). One query, only when there are such.
   */
  private static Map<String, Map<String, Message>> firstsOfRepeatedKeys(Connection c, List<Write> writes,
      boolean[] denied, Set<String> inserted) throws SQLException {
    List<String> threads = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < writes.size(); i++) {
      if (denied[i]) {
        continue;
      }
      Write w = writes.get(i);
      for (int j = 0; j < w.messages().size(); j++) {
        String k = w.idempotencyKeys().get(j);
        if (k != null && !k.isEmpty() && !inserted.contains(w.messages().get(j).getMessageId())) {
          threads.add(w.threadId());
          keys.add(k);
        }
      }
    }
    if (keys.isEmpty()) {
      return Map.of();
    }
    Map<String, Map<String, Message>> out = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(FIRST_BY_KEY)) {
      ps.setArray(1, c.createArrayOf("text", threads.toArray()));
      ps.setArray(2, c.createArrayOf("text", keys.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Message m = MessageRows.read(rs);
          out.computeIfAbsent(m.getThreadId(), t -> new HashMap<>()).put(rs.getString("idempotency_key"), m);
        }
      }
    }
    return out;
  }
}
