package io.messagestore.server.archive;

import io.messagestore.api.v1.Message;
import io.messagestore.server.clickhouse.ClickHouseArchive;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.resilience.TierBreaker;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * ClickHouse's archive as the archive pump's destination: one INSERT, then a read back of the
 * same rows' fingerprints (count and content); the round counts as committed only if every row
 * is there with the bytes it was given.
 */
final class ArchiveDestination extends ClickHouseDestination<Message> {
  private final ClickHouseArchive archive;
  private final Clock clock;

  ArchiveDestination(ClickHouseTier tier, ClickHouseArchive archive, TierBreaker breaker, Clock clock) {
    super(tier, breaker);
    this.archive = archive;
    this.clock = clock;
  }

  @Override
  void write(List<Message> messages) throws Exception {
    archive.copy(messages, clock.instant());
    Map<String, String> stored = archive.storedFingerprints(messages);
    int wrong = 0;
    String example = null;
    for (Message m : messages) {
      if (!ClickHouseArchive.fingerprint(m).equals(stored.get(m.getMessageId()))) {
        wrong++;
        example = example == null ? m.getMessageId() : example;
      }
    }
    if (wrong > 0) {
      throw new ArchiveMismatchException(wrong + " of " + messages.size()
          + " copied messages did not read back as written from ClickHouse, e.g. " + example);
    }
  }
}
