package io.messagestore.server.redis;

import java.util.List;

/** What the atomic Redis store step decided. */
public sealed interface StoreResult {

  /** Every message was checked; each is either newly stored or a duplicate. */
  record Stored(List<Entry> entries) implements StoreResult {}

  /** The thread has no owner in Redis: the caller must establish one and retry with claim. */
  record NoOwner() implements StoreResult {}

  /** The thread belongs to someone else. */
  record Denied(String owner) implements StoreResult {}

  /** The shard's persistence backlog is full; nothing was stored. */
  record BacklogFull(long backlog) implements StoreResult {}

  /**
   * The thread already holds a message with a later id than the first new one (minted a moment
   * earlier on another instance, or by a clock that is behind); nothing was stored. Ids above
   * {@code newestId} are accepted.
   */
  record Behind(String newestId) implements StoreResult {}

  /**
   * One message's outcome.
   *
   * @param firstMessage for a duplicate, the stored bytes of the first message when Redis still
   *     had them; empty otherwise
   */
  record Entry(boolean duplicate, String messageId, byte[] firstMessage) {}
}
