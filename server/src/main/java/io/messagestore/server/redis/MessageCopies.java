package io.messagestore.server.redis;

import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.SetArgs;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.KeyValue;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What the consistency checker reads from and repairs in Redis: a thread's message copies, its
 * recent index and owner, and the shard streams' pending entries. It works on a connection of its
 * own, so that a long scan never queues behind or in front of the request path's commands.
 */
public final class MessageCopies implements AutoCloseable {
  /** Entries read per XRANGE while scanning a stream. */
  public static final int STREAM_PAGE = 1000;

  /** A pending persistence entry: its stream entry id and the message bytes it carries. */
  public record PendingEntry(String entryId, byte[] payload) {}

  private final RedisTier redis;
  private final RedisKeys keys;
  private final Duration timeout;
  private StatefulRedisConnection<String, byte[]> connection;

  public MessageCopies(RedisTier redis, RedisKeys keys, Duration timeout) {
    this.redis = redis;
    this.keys = keys;
    this.timeout = timeout;
  }

  public RedisKeys keys() {
    return keys;
  }

  private synchronized RedisCommands<String, byte[]> sync() {
    if (connection == null) {
      connection = redis.dedicatedConnection(timeout);
    }
    return connection.sync();
  }

  /** The copies of the thread's messages, null where Redis has none (one MGET: one slot). */
  public List<byte[]> copies(String threadId, List<String> messageIds) {
    if (messageIds.isEmpty()) {
      return List.of();
    }
    RedisKeys.ThreadKeys k = keys.of(threadId);
    String[] names = messageIds.stream().map(k::message).toArray(String[]::new);
    List<byte[]> out = new ArrayList<>(names.length);
    for (KeyValue<String, byte[]> kv : sync().mget(names)) {
      out.add(kv.getValueOrElse(null));
    }
    return out;
  }

  /** Message ids in the thread's recent index strictly between the bounds, in order (the thread-start marker left out). */
  public List<String> indexIds(String threadId, String afterId, String beforeId, int limit) {
    Range<byte[]> range = Range.from(Range.Boundary.excluding(ascii(afterId)), Range.Boundary.excluding(ascii(beforeId)));
    List<byte[]> raw = sync().zrangebylex(keys.recent(threadId), range, Limit.create(0, limit));
    List<String> out = new ArrayList<>(raw.size());
    for (byte[] member : raw) {
      String id = new String(member, java.nio.charset.StandardCharsets.US_ASCII);
      if (!id.equals(RecentIndex.THREAD_START)) {
        out.add(id);
      }
    }
    return out;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  /** Whether the thread's recent index holds the id. */
  public boolean inIndex(String threadId, String messageId) {
    return sync().zscore(keys.recent(threadId), ascii(messageId)) != null;
  }

  /** The owner Redis knows for the thread, or null. */
  public String owner(String threadId) {
    byte[] v = sync().get(keys.owner(threadId));
    return v == null ? null : new String(v, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Up to {@link #STREAM_PAGE} entries of the shard's stream after {@code afterEntryId} ("-" from the start). */
  public List<PendingEntry> pending(int shard, String afterEntryId) {
    Range<String> range = afterEntryId.equals("-")
        ? Range.create("-", "+")
        : Range.from(Range.Boundary.excluding(afterEntryId), Range.Boundary.unbounded());
    List<StreamMessage<String, byte[]>> raw = sync().xrange(keys.stream(shard), range, Limit.from(STREAM_PAGE));
    List<PendingEntry> out = new ArrayList<>(raw.size());
    for (StreamMessage<String, byte[]> m : raw) {
      // "m": the message field of an entry (send.lua).
      out.add(new PendingEntry(m.getId(), m.getBody() == null ? null : m.getBody().get("m")));
    }
    return out;
  }

  /**
   * Replaces a message copy with {@code bytes}, keeping its time to live; false when the copy
   * has gone meanwhile (nothing is written then: a copy without a TTL would never expire).
   */
  public boolean refill(String threadId, String messageId, byte[] bytes) {
    String ok = sync().set(keys.message(threadId, messageId), bytes, SetArgs.Builder.xx().keepttl());
    return "OK".equals(ok);
  }

  /** Drops a message copy; reads go to PostgreSQL for it then. */
  public boolean drop(String threadId, String messageId) {
    return sync().del(keys.message(threadId, messageId)) > 0;
  }

  @Override
  public synchronized void close() {
    if (connection != null) {
      connection.close();
      connection = null;
    }
  }
}
