package io.messagestore.server.consistency;

import io.messagestore.api.v1.Message;
import java.time.Instant;

/**
 * One copy of a message in one tier.
 *
 * @param fingerprint of the stored thread, user, role, content and metadata
 *     ({@code ClickHouseArchive.fingerprint}); null when the copy cannot be read
 * @param message the copy itself, when this tier gives it (the archive gives fingerprints only)
 * @param archivedAt when an archive row was written; null elsewhere
 * @param problem why an unreadable copy cannot be read
 */
record Copy(CopyTier tier, String fingerprint, Message message, Instant archivedAt, String problem) {

  static Copy of(CopyTier tier, Message m) {
    return new Copy(tier, io.messagestore.server.clickhouse.ClickHouseArchive.fingerprint(m), m, null, null);
  }

  static Copy archived(String fingerprint, Instant archivedAt) {
    return new Copy(CopyTier.ARCHIVE, fingerprint, null, archivedAt, null);
  }

  static Copy unreadable(CopyTier tier, String problem) {
    return new Copy(tier, null, null, null, problem);
  }

  /**
   * A copy as Redis or a stream holds it (a serialized {@code Message}); unreadable when it does
   * not parse or names another message than the key or entry it was found under.
   */
  static Copy parse(CopyTier tier, byte[] bytes, String threadId, String messageId) {
    Message m;
    try {
      m = Message.parseFrom(bytes);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return unreadable(tier, tier.label + " copy is not a message (" + bytes.length + " bytes)");
    }
    if (!m.getMessageId().equals(messageId) || !m.getThreadId().equals(threadId)) {
      return unreadable(tier, tier.label + " copy names message '" + m.getMessageId() + "' of thread '"
          + m.getThreadId() + "'");
    }
    return of(tier, m);
  }

  boolean readable() {
    return fingerprint != null;
  }
}
