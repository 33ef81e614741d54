package io.messagestore.server.redis;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * The Redis key layout.
 *
 * <p>Every key of a thread carries the hash tag of the thread's persistence-stream shard
 * ({@code ms:{s3}:t:<thread>:...}), and so does the shard's stream ({@code ms:{s3}:stream}). One
 * send touches the thread's keys and its shard stream in one Lua script; with a shared tag they
 * sit in one Redis Cluster slot, so the same script runs on a single Redis and on a cluster.
 * The shard of a thread is {@code crc32(thread_id) mod shards}: stable across gateway instances,
 * which is also what keeps one thread's entries in order (one stream, one persister at a time).
 * The shard count is fixed for the life of a deployment.
 */
public final class RedisKeys {
  private final int shards;

  public RedisKeys(int shards) {
    this.shards = shards;
  }

  public int shards() {
    return shards;
  }

  public int shardOf(String threadId) {
    CRC32 crc = new CRC32();
    crc.update(threadId.getBytes(StandardCharsets.UTF_8));
    return (int) (crc.getValue() % shards);
  }

  /** All keys of one thread, with the shard hashed once (the send path needs several). */
  public ThreadKeys of(String threadId) {
    int shard = shardOf(threadId);
    return new ThreadKeys("ms:{s" + shard + "}:t:" + threadId + ":", stream(shard));
  }

  /** The keys of one thread; see the class comment for the layout. */
  public record ThreadKeys(String prefix, String stream) {
    public String owner() {
      return prefix + "owner";
    }

    public String recent() {
      return prefix + "recent";
    }

    public String messagePrefix() {
      return prefix + "m:";
    }

    public String message(String messageId) {
      return prefix + "m:" + messageId;
    }

    public String idempotency(String key) {
      return prefix + "idem:" + key;
    }
  }

  public String owner(String threadId) {
    return of(threadId).owner();
  }

  public String message(String threadId, String messageId) {
    return of(threadId).message(messageId);
  }

  /** Sorted set of the thread's recent message ids (all score 0, ordered by id). */
  public String recent(String threadId) {
    return of(threadId).recent();
  }

  public String stream(int shard) {
    return "ms:{s" + shard + "}:stream";
  }

  /** Cached ListThreads pages of one user (hash: page request -> response). */
  public String userThreads(String userId) {
    return "ms:u:{" + userId + "}:threads";
  }

  /** Entries the persisters gave up on; one stream for all shards (admin traffic only). */
  public String deadLetters() {
    return "ms:deadletters";
  }

  /**
   * Channel of one thread's changes, for its watchers on every instance (see {@code
   * watch.ThreadChannel} for what is published on it).
   */
  public String watchChannel(String threadId) {
    return "ms:watch:" + threadId;
  }

  /** Channel on which persisters announce committed message ids. */
  public String persistedChannel() {
    return "ms:persisted";
  }
}
