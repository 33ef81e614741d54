package io.messagestore.server.archive;

import com.clickhouse.client.api.ServerException;
import io.messagestore.api.v1.Message;
import io.messagestore.server.clickhouse.ClickHouseArchive;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.resilience.TierBreaker;
import io.messagestore.server.pump.PumpDestination;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * ClickHouse's archive as the archive pump's destination: a round is one INSERT, then a read
 * back of the same rows' fingerprints (count and content), and it counts as committed only if
 * every row is there with the bytes it was given. Repeating a commit is harmless
 * (ReplacingMergeTree, read with FINAL). Calls go through the clickhouse-write breaker.
 */
final class ArchiveDestination implements PumpDestination<Message> {
  private final ClickHouseTier tier;
  private final ClickHouseArchive archive;
  private final TierBreaker breaker;
  private final Clock clock;

  ArchiveDestination(ClickHouseTier tier, ClickHouseArchive archive, TierBreaker breaker, Clock clock) {
    this.tier = tier;
    this.archive = archive;
    this.breaker = breaker;
    this.clock = clock;
  }

  @Override
  public boolean ready() {
    return tier.schemaReady();
  }

  @Override
  public List<Exception> commit(List<List<Message>> batches) throws Exception {
    List<Message> all = new ArrayList<>();
    batches.forEach(all::addAll);
    try {
      copyAndVerify(all);
      return Collections.nCopies(batches.size(), null);
    } catch (Exception e) {
      if (unreachable(e)) {
        throw e;
      }
      // Refused: the pump finds the rows ClickHouse will not take, one at a time.
      return Collections.nCopies(batches.size(), e);
    }
  }

  @Override
  public void commitOne(Message message) throws Exception {
    copyAndVerify(List.of(message));
  }

  /** Refusals are ClickHouse rejecting the rows, or rows that did not read back as written. */
  @Override
  public boolean unreachable(Exception failure) {
    return !(failure instanceof ArchiveMismatchException) && !(failure.getCause() instanceof ServerException);
  }

  private void copyAndVerify(List<Message> messages) throws Exception {
    breaker.callBlocking(() -> {
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
      return null;
    });
  }
}
