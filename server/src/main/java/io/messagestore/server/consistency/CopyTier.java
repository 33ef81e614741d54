package io.messagestore.server.consistency;

/** Where a copy of a message can live, by the names findings use. */
enum CopyTier {
  /** The message's Redis copy (what reads answer from). */
  REDIS("redis", true),
  /** A pending entry of its shard's persistence stream. */
  STREAM("stream", true),
  /** An entry of the dead-letter stream. */
  DEAD_LETTERS("dead_letters", true),
  POSTGRES("postgres", false),
  ARCHIVE("archive", false);

  final String label;
  /** Holds the bytes the gateway acknowledged, as the sender sent them. */
  final boolean acknowledged;

  CopyTier(String label, boolean acknowledged) {
    this.label = label;
    this.acknowledged = acknowledged;
  }
}
