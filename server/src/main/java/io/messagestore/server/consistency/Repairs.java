package io.messagestore.server.consistency;

import io.messagestore.api.v1.Message;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the repairs of one batch of judged messages, a kind at a time (one PostgreSQL insert,
 * one archive INSERT), and tells which failed and why. A failed repair fails only its finding.
 */
final class Repairs {
  private static final Logger log = LoggerFactory.getLogger(Repairs.class);

  private final Tiers tiers;
  private final Clock clock;

  Repairs(Tiers tiers, Clock clock) {
    this.tiers = tiers;
    this.clock = clock;
  }

  /** Applies every repair; returns the ones that failed, with the reason. */
  Map<Repair, String> apply(Collection<Repair> repairs) {
    Map<Repair, String> failed = new IdentityHashMap<>();
    Set<Repair> distinct = new LinkedHashSet<>(repairs);
    List<Repair.InsertIntoPostgres> inserts = new ArrayList<>();
    List<Repair.CopyToArchive> copies = new ArrayList<>();
    List<Repair.RemoveFromPostgres> removals = new ArrayList<>();
    for (Repair r : distinct) {
      if (r instanceof Repair.InsertIntoPostgres i) {
        inserts.add(i);
      } else if (r instanceof Repair.CopyToArchive c) {
        copies.add(c);
      } else if (r instanceof Repair.RemoveFromPostgres d) {
        removals.add(d);
      } else if (r instanceof Repair.OverwritePostgres o) {
        attempt(failed, List.of(r), () -> {
          if (!tiers.postgres().overwrite(o.message())) {
            throw new IllegalStateException("the row went meanwhile");
          }
        });
      } else if (r instanceof Repair.RefillRedis f) {
        // A copy that expired meanwhile needs nothing: reads go to PostgreSQL.
        attempt(failed, List.of(r), () ->
            tiers.redis().refill(f.message().getThreadId(), f.message().getMessageId(), f.message().toByteArray()));
      } else if (r instanceof Repair.DropRedisCopy d) {
        attempt(failed, List.of(r), () -> tiers.redis().drop(d.threadId(), d.messageId()));
      }
    }
    if (!inserts.isEmpty()) {
      List<Message> messages = inserts.stream().map(Repair.InsertIntoPostgres::message).toList();
      attempt(failed, inserts, () -> {
        tiers.messageRows().insert(messages, null);
        // The count may have counted the row before it went (deleted behind the gateway's back).
        tiers.postgres().recount(messages.stream().map(Message::getThreadId).toList());
        Set<String> present = tiers.postgres().existingNow(messages.stream().map(Message::getMessageId).toList());
        for (Repair.InsertIntoPostgres i : inserts) {
          if (!present.contains(i.message().getMessageId())) {
            failed.put(i, "postgres did not take it (its thread was deleted)");
          }
        }
      });
    }
    if (!copies.isEmpty()) {
      attempt(failed, copies, () -> tiers.archiveWriter().copy(
          copies.stream().map(Repair.CopyToArchive::message).toList(), clock.instant()));
    }
    if (!removals.isEmpty()) {
      attempt(failed, removals, () -> tiers.postgres().removeArchived(
          removals.stream().map(Repair.RemoveFromPostgres::message).toList(), clock.instant()));
    }
    return failed;
  }

  private interface Work {
    void run() throws Exception;
  }

  private static void attempt(Map<Repair, String> failed, List<? extends Repair> repairs, Work work) {
    try {
      work.run();
    } catch (Exception e) {
      log.warn("consistency repair of {} message(s) failed: {}", repairs.size(), e.toString());
      repairs.forEach(r -> failed.put(r, e.getClass().getSimpleName() + ": " + e.getMessage()));
    }
  }
}
