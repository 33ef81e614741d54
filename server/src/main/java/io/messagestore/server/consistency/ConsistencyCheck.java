package io.messagestore.server.consistency;

import io.messagestore.api.v1.Message;
import io.messagestore.server.clickhouse.ArchiveCopies.ArchivedRow;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.postgres.ConsistencyRows.MessageRef;
import io.messagestore.server.postgres.ConsistencyRows.ThreadRow;
import io.messagestore.server.write.MessageIdGenerator;
import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

/**
 * One run of the checker over one scope. Not thread-safe: one check, one thread.
 *
 * <p>It reads in this order, which is what makes "in no tier" mean lost rather than "moved while
 * we looked": the streams first ({@link PendingCopies}), then PostgreSQL, then the archive (a
 * message leaves a stream only once committed, and leaves PostgreSQL only once in the archive).
 * Then it walks the scope in pages, in id order, merging PostgreSQL's rows and the archive's;
 * then the recent indexes, for messages that only Redis knows; then stream entries not met yet.
 * Each page is judged ({@link Judgement}) and repaired before the next is read, so memory is
 * bounded by a page, the snapshot of the streams and the findings kept.
 */
final class ConsistencyCheck {
  static final int PAGE = 500;

  /** A message to judge: its copies found so far. */
  private record Candidate(String threadId, String messageId, List<Copy> copies) {}

  private final Tiers tiers;
  private final Repairs repairs;
  private final Judgement.Cutoffs cutoffs;
  private final boolean repair;
  private final int maxFindings;
  private final BooleanSupplier expired;
  private final Instant archiveRetentionCutoff;
  private final CheckPacing pacing;

  private PendingCopies pending;
  private long checked;
  private long withFindings;
  private final List<Finding> findings = new ArrayList<>();
  private final Map<FindingKind, Long> counts = new EnumMap<>(FindingKind.class);

  /**
   * @param archiveRetentionCutoff archive partitions wholly before this may have been dropped; null when none are
   * @param expired true once the caller's deadline has passed or it cancelled
   */
  ConsistencyCheck(Tiers tiers, Repairs repairs, Judgement.Cutoffs cutoffs, Instant archiveRetentionCutoff,
      boolean repair, int maxFindings, BooleanSupplier expired, CheckPacing pacing) {
    this.pacing = pacing;
    this.tiers = tiers;
    this.repairs = repairs;
    this.cutoffs = cutoffs;
    this.archiveRetentionCutoff = archiveRetentionCutoff;
    this.repair = repair;
    this.maxFindings = maxFindings;
    this.expired = expired;
  }

  CheckResult run(Scope scope) throws Exception {
    try (Connection c = tiers.postgres().readConnection()) {
      if (scope instanceof Scope.OneMessage m) {
        pending = PendingCopies.read(tiers.redis(), tiers.deadLetters(), shardOf(m.threadId()),
            (t, id) -> id.equals(m.messageId()));
        List<Candidate> found = lookUp(c, m.threadId(), List.of(m.messageId()));
        if (found.get(0).copies().isEmpty() && !pending.has(m.messageId())
            && tiers.redis().copies(m.threadId(), List.of(m.messageId())).get(0) == null
            && !tiers.redis().inIndex(m.threadId(), m.messageId())) {
          throw new StoreError.NotFound("message '" + m.messageId() + "' of thread '" + m.threadId()
              + "' is in no tier");
        }
        judge(found);
      } else if (scope instanceof Scope.Messages s) {
        Set<String> ids = new HashSet<>();
        s.refs().forEach(r -> ids.add(r.messageId()));
        pending = PendingCopies.read(tiers.redis(), tiers.deadLetters(), allShards(), (t, id) -> ids.contains(id));
        Map<String, List<String>> byThread = new LinkedHashMap<>();
        s.refs().forEach(r -> byThread.computeIfAbsent(r.threadId(), t -> new ArrayList<>()).add(r.messageId()));
        for (Map.Entry<String, List<String>> e : byThread.entrySet()) {
          stopIfExpired();
          judge(lookUp(c, e.getKey(), e.getValue()));
        }
      } else if (scope instanceof Scope.OneThread t) {
        pending = PendingCopies.read(tiers.redis(), tiers.deadLetters(), shardOf(t.threadId()),
            (thread, id) -> thread.equals(t.threadId()));
        Optional<ThreadRow> before = tiers.postgres().thread(c, t.threadId());
        String owner = tiers.redis().owner(t.threadId());
        walk(c, t.threadId(), Scope.BELOW_EVERY_ID, Scope.ABOVE_EVERY_ID, null, null);
        redisOnly(c, t.threadId(), Scope.BELOW_EVERY_ID, Scope.ABOVE_EVERY_ID);
        streamOnly(c);
        if (before.isEmpty() && owner == null && checked == 0) {
          throw new StoreError.NotFound("thread '" + t.threadId() + "' is in no tier");
        }
        checkThread(c, t.threadId(), owner);
      } else if (scope instanceof Scope.Window w) {
        String afterId = w.afterId();
        String beforeId = w.beforeId();
        pending = PendingCopies.read(tiers.redis(), tiers.deadLetters(), allShards(),
            (thread, id) -> id.compareTo(afterId) > 0 && id.compareTo(beforeId) < 0);
        walk(c, null, afterId, beforeId, w.start(), w.end());
        String afterThread = "";
        while (true) {
          stopIfExpired();
          List<String> threads = tiers.postgres().threadsActiveIn(c, w.start(), w.end(), afterThread, PAGE);
          for (String thread : threads) {
            redisOnly(c, thread, afterId, beforeId);
          }
          if (threads.size() < PAGE) {
            break;
          }
          afterThread = threads.get(threads.size() - 1);
        }
        streamOnly(c);
      }
    }
    return new CheckResult(checked, withFindings, List.copyOf(findings), Map.copyOf(counts));
  }

  /** Pass one: PostgreSQL's rows and the archive's, merged in id order, a page at a time. */
  private void walk(Connection c, String threadId, String afterId, String beforeId, Instant from, Instant to)
      throws Exception {
    ArrayDeque<Message> rows = new ArrayDeque<>();
    ArrayDeque<ArchivedRow> archived = new ArrayDeque<>();
    String rowsAfter = afterId;
    String archiveAfter = afterId;
    boolean rowsDone = false;
    boolean archiveDone = false;
    List<Candidate> batch = new ArrayList<>(PAGE);
    while (true) {
      if (rows.isEmpty() && !rowsDone) {
        stopIfExpired();
        List<Message> page = tiers.postgres().page(c, threadId, rowsAfter, beforeId, PAGE);
        rows.addAll(page);
        rowsDone = page.size() < PAGE;
        if (!page.isEmpty()) {
          rowsAfter = page.get(page.size() - 1).getMessageId();
        }
      }
      if (archived.isEmpty() && !archiveDone) {
        stopIfExpired();
        List<ArchivedRow> page = tiers.archive().page(threadId, archiveAfter, beforeId, from, to, PAGE);
        archived.addAll(page);
        archiveDone = page.size() < PAGE;
        if (!page.isEmpty()) {
          archiveAfter = page.get(page.size() - 1).messageId();
        }
      }
      if (rows.isEmpty() && archived.isEmpty()) {
        break;
      }
      String next = rows.isEmpty() ? archived.peek().messageId()
          : archived.isEmpty() || rows.peek().getMessageId().compareTo(archived.peek().messageId()) <= 0
              ? rows.peek().getMessageId() : archived.peek().messageId();
      String thread = null;
      List<Copy> copies = new ArrayList<>(2);
      if (!rows.isEmpty() && rows.peek().getMessageId().equals(next)) {
        Message m = rows.poll();
        thread = m.getThreadId();
        copies.add(Copy.of(CopyTier.POSTGRES, m));
      }
      while (!archived.isEmpty() && archived.peek().messageId().equals(next)) {
        ArchivedRow a = archived.poll();
        thread = thread == null ? a.threadId() : thread;
        copies.add(Copy.archived(a.fingerprint(), a.archivedAt()));
      }
      batch.add(new Candidate(thread, next, copies));
      if (batch.size() == PAGE) {
        judge(batch);
        batch = new ArrayList<>(PAGE);
      }
    }
    judge(batch);
  }

  /** Pass two: ids in the thread's recent index that no durable tier holds. */
  private void redisOnly(Connection c, String threadId, String afterId, String beforeId) throws Exception {
    String after = afterId;
    while (true) {
      stopIfExpired();
      List<String> ids = tiers.redis().indexIds(threadId, after, beforeId, PAGE);
      if (ids.isEmpty()) {
        return;
      }
      judge(notDurable(c, threadId, ids));
      if (ids.size() < PAGE) {
        return;
      }
      after = ids.get(ids.size() - 1);
    }
  }

  /** Pass three: stream and dead-letter entries of messages no durable tier or index named. */
  private void streamOnly(Connection c) throws Exception {
    Map<String, List<String>> byThread = new LinkedHashMap<>();
    pending.unjudged().forEach((id, p) -> byThread.computeIfAbsent(p.threadId, t -> new ArrayList<>()).add(id));
    for (Map.Entry<String, List<String>> e : byThread.entrySet()) {
      for (int from = 0; from < e.getValue().size(); from += PAGE) {
        stopIfExpired();
        judge(notDurable(c, e.getKey(), e.getValue().subList(from, Math.min(from + PAGE, e.getValue().size()))));
      }
    }
  }

  /** Of the thread's ids, those in neither PostgreSQL nor the archive (the others are judged in pass one). */
  private List<Candidate> notDurable(Connection c, String threadId, List<String> ids) throws Exception {
    Set<String> durable = new HashSet<>(tiers.postgres().existing(c, ids));
    tiers.archive().of(threadId, ids).forEach(a -> durable.add(a.messageId()));
    List<Candidate> out = new ArrayList<>();
    for (String id : ids) {
      if (!durable.contains(id)) {
        out.add(new Candidate(threadId, id, new ArrayList<>(1)));
      }
    }
    return out;
  }

  /** The durable copies of given messages of one thread. */
  private List<Candidate> lookUp(Connection c, String threadId, List<String> ids) throws Exception {
    Map<String, Candidate> byId = new LinkedHashMap<>();
    ids.forEach(id -> byId.put(id, new Candidate(threadId, id, new ArrayList<>(2))));
    for (Message m : tiers.postgres().byIds(c, threadId, ids)) {
      byId.get(m.getMessageId()).copies().add(Copy.of(CopyTier.POSTGRES, m));
    }
    for (ArchivedRow a : tiers.archive().of(threadId, ids)) {
      byId.get(a.messageId()).copies().add(Copy.archived(a.fingerprint(), a.archivedAt()));
    }
    return new ArrayList<>(byId.values());
  }

  /** Adds the Redis copies and stream entries, judges, repairs, records. */
  private void judge(List<Candidate> batch) throws InterruptedException {
    if (batch.isEmpty()) {
      return;
    }
    pacing.betweenPages(expired);
    Map<String, List<Candidate>> byThread = new LinkedHashMap<>();
    batch.forEach(cd -> byThread.computeIfAbsent(cd.threadId(), t -> new ArrayList<>()).add(cd));
    for (Map.Entry<String, List<Candidate>> e : byThread.entrySet()) {
      List<Candidate> of = e.getValue();
      List<byte[]> redis = tiers.redis().copies(e.getKey(), of.stream().map(Candidate::messageId).toList());
      for (int i = 0; i < of.size(); i++) {
        if (redis.get(i) != null) {
          of.get(i).copies().add(Copy.parse(CopyTier.REDIS, redis.get(i), e.getKey(), of.get(i).messageId()));
        }
      }
    }
    List<Judged> judged = new ArrayList<>(batch.size());
    for (Candidate cd : batch) {
      cd.copies().addAll(pending.take(cd.messageId()));
      Instant created = Instant.ofEpochMilli(MessageIdGenerator.millisOf(UUID.fromString(cd.messageId())));
      judged.add(new Judged(cd, Judgement.judge(cd.threadId(), cd.messageId(), created, cd.copies(), cutoffs)));
    }
    Map<Repair, String> failed = repair
        ? repairs.apply(judged.stream().flatMap(j -> j.problems().stream()).flatMap(p -> p.repairs().stream()).toList())
        : Map.of();
    for (Judged j : judged) {
      checked++;
      if (!j.problems().isEmpty()) {
        withFindings++;
      }
      for (Judgement.Problem p : j.problems()) {
        String failure = p.repairs().stream().map(failed::get).filter(java.util.Objects::nonNull).findFirst().orElse(null);
        boolean repaired = repair && p.complete() && !p.repairs().isEmpty() && failure == null;
        String detail = !repair || p.repairs().isEmpty() ? p.detail()
            : failure != null ? p.detail() + " (repair failed: " + failure + ")"
            : repaired ? p.detail() : p.detail() + " (repaired in part)";
        record(new Finding(p.kind(), j.candidate().threadId(), j.candidate().messageId(), detail, repaired));
      }
    }
  }

  private record Judged(Candidate candidate, List<Judgement.Problem> problems) {}

  /** The thread's owner and counters, after its messages (and their repairs). */
  private void checkThread(Connection c, String threadId, String redisOwner) throws Exception {
    Optional<ThreadRow> row = tiers.postgres().thread(c, threadId);
    if (row.isEmpty()) {
      return;
    }
    ThreadRow t = row.get();
    if (redisOwner != null && !redisOwner.equals(t.owner())) {
      record(new Finding(FindingKind.OWNER_MISMATCH, threadId, "", "redis names '" + redisOwner
          + "' as the owner, postgres '" + t.owner() + "'", false));
    }
    if (t.messageCount() != t.expectedCount()) {
      boolean fixed = repair && tiers.postgres().recount(List.of(threadId)).contains(threadId);
      record(new Finding(FindingKind.COUNTER_MISMATCH, threadId, "", "message_count is " + t.messageCount()
          + ", but postgres holds " + t.rows() + " and the archive counter says " + t.archivedMessages(), fixed));
    }
    boolean partitionsMayBeGone = archiveRetentionCutoff != null && t.createdAt().isBefore(archiveRetentionCutoff);
    if (t.archivedMessages() > 0 && !partitionsMayBeGone) {
      long inArchive = tiers.archive().count(threadId);
      if (inArchive < t.archivedMessages()) {
        record(new Finding(FindingKind.MISSING_IN_ARCHIVE, threadId, "", "the thread has " + t.archivedMessages()
            + " archived messages, the archive holds " + inArchive + " and no other tier the rest", false));
      }
    }
  }

  private void record(Finding f) {
    counts.merge(f.kind(), 1L, Long::sum);
    if (findings.size() < maxFindings) {
      findings.add(f);
    }
  }

  private void stopIfExpired() {
    if (expired.getAsBoolean()) {
      throw new StoreError.Cancelled("the consistency check stopped at the caller's deadline after " + checked
          + " messages; narrow the scope or allow more time");
    }
  }

  private int[] shardOf(String threadId) {
    return new int[] {tiers.redis().keys().shardOf(threadId)};
  }

  private int[] allShards() {
    return IntStream.range(0, tiers.redis().keys().shards()).toArray();
  }
}
