package io.messagestore.server.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** Runs the atomic store step ({@code redis/send.lua}) for one thread's messages. */
public final class RedisMessageWriter {
  private static final RedisScript SCRIPT = RedisScript.load("/redis/send.lua", RecentIndex.LUA_CONSTANTS);
  private static final byte[] ONE = "1".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ZERO = "0".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NONE = new byte[0];

  private final RedisTier redis;
  private final NearCache nearCache;
  private final RedisKeys keys;
  private final byte[] messageTtlMs;
  private final byte[] idempotencyTtlMs;
  private final byte[] maxStreamLength;

  /**
   * @param maxBacklog bound of all shards together; each shard takes its share, since a thread
   *     only ever fills its own shard
   */
  public RedisMessageWriter(RedisTier redis, NearCache nearCache, RedisKeys keys, Duration messageTtl,
      Duration idempotencyTtl, long maxBacklog) {
    this.redis = redis;
    this.nearCache = nearCache;
    this.keys = keys;
    this.messageTtlMs = ascii(messageTtl.toMillis());
    this.idempotencyTtlMs = ascii(idempotencyTtl.toMillis());
    this.maxStreamLength = ascii(Math.max(1, maxBacklog / keys.shards()));
  }

  /** What the store step may do when the thread has no owner in Redis. */
  public enum Claim {
    /** Answer {@link StoreResult.NoOwner}: the caller must find out who owns the thread first. */
    NOT_ALLOWED("0"),
    /** Record the caller as owner: PostgreSQL says it owns the thread, or cannot be asked. */
    EXISTING_THREAD("1"),
    /**
     * Record the caller as owner, and mark the new recent index as starting at the thread's
     * first message: PostgreSQL just created the thread, so it has no other messages anywhere.
     */
    NEW_THREAD("2");

    private final byte[] arg;

    Claim(String arg) {
      this.arg = arg.getBytes(StandardCharsets.US_ASCII);
    }
  }

  /** A message ready to store: its id, serialized bytes and optional idempotency key. */
  public record Pending(String messageId, byte[] bytes, String idempotencyKey) {}

  /**
   * Stores the messages of one thread, all or none.
   *
   * @param claim whether and how an unowned thread may be claimed for {@code userId}
   * @param durable whether the caller waits for the PostgreSQL commit (its stream entries are
   *     marked so the persister announces their commit)
   */
  public CompletionStage<StoreResult> store(String threadId, String userId, List<Pending> messages, Claim claim,
      boolean durable) {
    int n = messages.size();
    String[] k = new String[3 + 2 * n];
    byte[][] argv = new byte[8 + 3 * n][];
    RedisKeys.ThreadKeys tk = keys.of(threadId);
    k[0] = tk.owner();
    k[1] = tk.recent();
    k[2] = tk.stream();
    argv[0] = userId.getBytes(StandardCharsets.UTF_8);
    argv[1] = messageTtlMs;
    argv[2] = idempotencyTtlMs;
    argv[3] = maxStreamLength;
    argv[4] = claim.arg;
    argv[5] = tk.messagePrefix().getBytes(StandardCharsets.UTF_8);
    argv[6] = durable ? ONE : ZERO;
    argv[7] = keys.watchChannel(threadId).getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < n; i++) {
      Pending p = messages.get(i);
      String messageKey = tk.message(p.messageId());
      boolean idem = p.idempotencyKey() != null && !p.idempotencyKey().isEmpty();
      k[3 + 2 * i] = messageKey;
      k[4 + 2 * i] = idem ? tk.idempotency(p.idempotencyKey()) : messageKey;
      argv[8 + 3 * i] = p.messageId().getBytes(StandardCharsets.US_ASCII);
      argv[9 + 3 * i] = p.bytes();
      argv[10 + 3 * i] = idem ? p.idempotencyKey().getBytes(StandardCharsets.UTF_8) : NONE;
    }
    return SCRIPT.run(redis.async(), k, argv).thenApply(reply -> {
      // Before the caller hears of the new messages: its next page read here must include them.
      nearCache.invalidate(tk.recent());
      return parse(reply);
    });
  }

  private static StoreResult parse(List<Object> reply) {
    String head = text(reply.get(0));
    switch (head) {
      case "NOOWNER":
        return new StoreResult.NoOwner();
      case "DENIED":
        return new StoreResult.Denied(text(reply.get(1)));
      case "BACKLOG":
        return new StoreResult.BacklogFull(Long.parseLong(text(reply.get(1))));
      case "BEHIND":
        return new StoreResult.Behind(text(reply.get(1)));
      case "OK":
        List<StoreResult.Entry> entries = new ArrayList<>((reply.size() - 1) / 3);
        for (int i = 1; i + 2 < reply.size(); i += 3) {
          boolean dup = "D".equals(text(reply.get(i)));
          byte[] first = reply.get(i + 2) instanceof byte[] b ? b : new byte[0];
          entries.add(new StoreResult.Entry(dup, text(reply.get(i + 1)), first));
        }
        return new StoreResult.Stored(entries);
      default:
        throw new IllegalStateException("unexpected reply from send.lua: " + head);
    }
  }

  private static String text(Object o) {
    return o instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(o);
  }

  private static byte[] ascii(long v) {
    return Long.toString(v).getBytes(StandardCharsets.US_ASCII);
  }
}
