package io.messagestore.server.consistency;

import io.messagestore.server.postgres.ConsistencyRows.MessageRef;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** What one check covers. */
public sealed interface Scope {
  /** The lowest and highest message ids there are, as exclusive bounds of a whole thread. */
  String BELOW_EVERY_ID = "00000000-0000-0000-0000-000000000000";
  String ABOVE_EVERY_ID = "ffffffff-ffff-ffff-ffff-ffffffffffff";

  /** One message. */
  record OneMessage(String threadId, String messageId) implements Scope {}

  /** Every message of a thread, and the thread's owner and counters. */
  record OneThread(String threadId) implements Scope {}

  /** Every message created in {@code [start, end]}, of every thread. */
  record Window(Instant start, Instant end) implements Scope {
    /** Below every id minted in the window's first millisecond, above every id before it. */
    String afterId() {
      return new UUID(start.toEpochMilli() << 16, 0).toString();
    }

    /** Above every id minted in the window's last millisecond. */
    String beforeId() {
      return new UUID((end.toEpochMilli() + 1) << 16, 0).toString();
    }
  }

  /** Given messages (the sampler's). */
  record Messages(List<MessageRef> refs) implements Scope {}
}
