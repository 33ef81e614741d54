package io.messagestore.server.consistency;

/**
 * The kinds of finding {@code CheckConsistency} reports. The strings are part of the API
 * (documented in messagestore.proto and docs/OPERATIONS.md, counted in
 * {@code messagestore_consistency_findings_total{kind}}): never rename one.
 */
public enum FindingKind {
  /** Acknowledged, past the lag budget, and PostgreSQL (its home until archived) has no row of it. */
  MISSING_IN_POSTGRES("missing_in_postgres"),
  /**
   * Past the hot retention, gone from PostgreSQL, and not in the archive either; or, for a
   * thread, fewer messages in the archive than the thread's archived count says.
   */
  MISSING_IN_ARCHIVE("missing_in_archive"),
  /** Copies of one message differ in thread, user, role, content or metadata; the detail names the tiers. */
  CONTENT_MISMATCH("content_mismatch"),
  /** The Redis copy is not a readable message, or names another message. */
  CORRUPT_REDIS_COPY("corrupt_redis_copy"),
  /**
   * A message twice: in both PostgreSQL and the archive after the archive batch that copied it
   * finished, or as differing rows in the archive.
   */
  DUPLICATE("duplicate"),
  /** Acknowledged, past the lag budget, and no durable tier, stream or good copy has it. */
  LOST("lost"),
  /**
   * Redis and PostgreSQL name different owners for a thread (checked with a thread scope). A
   * message's user is compared across its copies as part of its content ({@link #CONTENT_MISMATCH}).
   */
  OWNER_MISMATCH("owner_mismatch"),
  /** A thread's message count is not its rows in PostgreSQL plus its archived messages. */
  COUNTER_MISMATCH("counter_mismatch");

  private final String label;

  FindingKind(String label) {
    this.label = label;
  }

  /** The stable string the API and the metrics use. */
  public String label() {
    return label;
  }
}
