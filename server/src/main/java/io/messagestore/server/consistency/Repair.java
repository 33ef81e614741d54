package io.messagestore.server.consistency;

import io.messagestore.api.v1.Message;

/** One change that brings a tier back to the acknowledged copy of a message. */
sealed interface Repair {
  /** Writes the row PostgreSQL lacks (the thread's count is recounted with it). */
  record InsertIntoPostgres(Message message) implements Repair {}

  /** Gives the PostgreSQL row the acknowledged content. */
  record OverwritePostgres(Message message) implements Repair {}

  /** Writes the message into the archive again; the newest row is the one reads see. */
  record CopyToArchive(Message message) implements Repair {}

  /** Replaces the Redis copy with this message, keeping its time to live. */
  record RefillRedis(Message message) implements Repair {}

  /** Drops an unreadable Redis copy that nothing good can replace; reads go to PostgreSQL. */
  record DropRedisCopy(String threadId, String messageId) implements Repair {}

  /** Deletes a PostgreSQL row the archive holds with the same content, as the archiver would have. */
  record RemoveFromPostgres(Message message) implements Repair {}
}
