package io.messagestore.server.clickhouse;

import java.io.IOException;
import java.util.List;
import java.util.UUID;

/**
 * Erases an erased thread's rows from ClickHouse (archive and analytics) with background
 * mutations ({@code ALTER TABLE ... DELETE}), and tells when they are gone. Only rows up to the
 * erasure's last message id go: a thread id claimed again keeps its new messages.
 */
public final class ArchiveErasure {
  static final List<String> TABLES = List.of("messages_archive", "message_facts");

  private final ClickHouseTier tier;

  public ArchiveErasure(ClickHouseTier tier) {
    this.tier = tier;
  }

  /** Submits the mutations; ClickHouse runs them in the background. Repeating it is harmless. */
  public void submit(String threadId, String erasedThrough) throws IOException, InterruptedException {
    for (String table : TABLES) {
      tier.execute("ALTER TABLE " + tier.database() + "." + table + " DELETE WHERE " + condition(threadId, erasedThrough));
    }
  }

  /** Rows of the erased incarnation still in ClickHouse (0 once the mutations have run). */
  public long remaining(String threadId, String erasedThrough) throws IOException, InterruptedException {
    long rows = 0;
    for (String table : TABLES) {
      rows += Long.parseLong(tier.execute("SELECT count() FROM " + tier.database() + "." + table + " WHERE "
          + condition(threadId, erasedThrough) + " FORMAT TabSeparated").strip());
    }
    return rows;
  }

  private static String condition(String threadId, String erasedThrough) {
    // UUIDv7's canonical text orders as its time; ClickHouse's UUID type does not (see
    // ClickHouseMessageStore), so the bound is compared as text.
    return "thread_id = " + ClickHouseMessageStore.quote(threadId) + " AND toString(message_id) <= '"
        + UUID.fromString(erasedThrough) + "'";
  }
}
