package io.messagestore.server.consistency;

import io.messagestore.api.v1.Message;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What the copies of one message say: the findings, and the repairs that would settle each.
 * Pure: it asks no tier, so that every rule of what is expected and what is a finding sits here
 * and is tested on its own.
 *
 * <p>The acknowledged bytes are the truth: the Redis copy and stream entries hold what the
 * sender sent. When they agree, that is the truth; when they disagree, the fingerprint a strict
 * majority of copies holds; otherwise, and when there is no acknowledged copy and the durable
 * copies disagree, there is none, and nothing is repaired: the checker never invents data.
 */
final class Judgement {
  /**
   * The lines between expected and findings for one check.
   *
   * @param recent a message created at or after this may have no durable copy yet (lag budget)
   * @param archiveCutoff a message created before this belongs in the archive; null when nothing is archived
   * @param archiveGrace an archive row written before this belongs to an archive batch that has finished
   */
  record Cutoffs(Instant recent, Instant archiveCutoff, Instant archiveGrace) {}

  /** A finding before repair: what, why, and what would fix it ({@code complete}: all of it). */
  record Problem(FindingKind kind, String detail, List<Repair> repairs, boolean complete) {
    static Problem unrepairable(FindingKind kind, String detail) {
      return new Problem(kind, detail, List.of(), false);
    }
  }

  private Judgement() {}

  static List<Problem> judge(String threadId, String messageId, Instant createdAt, List<Copy> copies,
      Cutoffs cutoffs) {
    List<Problem> problems = new ArrayList<>();
    Optional<Copy> redis = first(copies, CopyTier.REDIS);
    Optional<Copy> postgres = first(copies, CopyTier.POSTGRES);
    List<Copy> stream = of(copies, CopyTier.STREAM);
    List<Copy> deadLetters = of(copies, CopyTier.DEAD_LETTERS);
    List<Copy> archive = of(copies, CopyTier.ARCHIVE);
    // The archive row reads see: ReplacingMergeTree keeps the newest (by archived_at).
    Optional<Copy> archived = archive.stream().filter(Copy::readable).max(Comparator.comparing(Copy::archivedAt));

    List<Copy> effective = new ArrayList<>();
    redis.filter(Copy::readable).ifPresent(effective::add);
    effective.addAll(stream.stream().filter(Copy::readable).toList());
    effective.addAll(deadLetters.stream().filter(Copy::readable).toList());
    postgres.ifPresent(effective::add);
    archived.ifPresent(effective::add);
    String truth = truth(effective);
    Message good = truth == null ? null : effective.stream()
        .filter(c -> truth.equals(c.fingerprint()) && c.message() != null).map(Copy::message).findFirst().orElse(null);

    redis.filter(c -> !c.readable()).ifPresent(c -> problems.add(good != null
        ? new Problem(FindingKind.CORRUPT_REDIS_COPY, c.problem() + "; refilled from " + tierOf(effective, good),
            List.of(new Repair.RefillRedis(good)), true)
        : new Problem(FindingKind.CORRUPT_REDIS_COPY, c.problem() + "; no good copy to refill it from",
            List.of(new Repair.DropRedisCopy(threadId, messageId)), true)));

    boolean durable = postgres.isPresent() || !archive.isEmpty();
    if (!durable) {
      if (!stream.isEmpty()) {
        return problems; // pending: the persisters have it
      }
      if (!deadLetters.isEmpty()) {
        problems.add(good == null
            ? Problem.unrepairable(FindingKind.MISSING_IN_POSTGRES, "dead-lettered, and its entry cannot be read")
            : new Problem(FindingKind.MISSING_IN_POSTGRES, "dead-lettered and not in postgres; written back from "
                + "the dead-letter entry", List.of(new Repair.InsertIntoPostgres(good)), true));
        return problems;
      }
      if (!createdAt.isBefore(cutoffs.recent())) {
        return problems; // acknowledged a moment ago: within the lag budget
      }
      if (good == null) {
        problems.add(Problem.unrepairable(FindingKind.LOST, redis.isPresent()
            ? "acknowledged, but in no durable tier or stream, and its redis copy cannot be read"
            : "acknowledged (in the recent index), but in no durable tier, stream or redis copy"));
      } else if (cutoffs.archiveCutoff() != null && createdAt.isBefore(cutoffs.archiveCutoff())) {
        problems.add(new Problem(FindingKind.MISSING_IN_ARCHIVE, "past the hot retention and in neither postgres "
            + "nor the archive; copied again from " + tierOf(effective, good),
            List.of(new Repair.CopyToArchive(good)), true));
      } else {
        problems.add(new Problem(FindingKind.MISSING_IN_POSTGRES, "not in postgres; written back from "
            + tierOf(effective, good), List.of(new Repair.InsertIntoPostgres(good)), true));
      }
      return problems;
    }

    List<String> archiveFingerprints = archive.stream().map(Copy::fingerprint).distinct().toList();
    if (archiveFingerprints.size() > 1) {
      problems.add(good == null
          ? Problem.unrepairable(FindingKind.DUPLICATE, "the archive holds " + archiveFingerprints.size()
              + " differing rows of it, and no copy settles which is right")
          : new Problem(FindingKind.DUPLICATE, "the archive holds " + archiveFingerprints.size()
              + " differing rows of it; the acknowledged one was copied again (the newest row is the one read; "
              + "ClickHouse drops the others when it merges)", List.of(new Repair.CopyToArchive(good)), true));
    }
    if (postgres.isPresent() && archived.isPresent()
        && archive.stream().anyMatch(a -> a.archivedAt().isBefore(cutoffs.archiveGrace()))
        && archiveFingerprints.contains(postgres.get().fingerprint())) {
      problems.add(new Problem(FindingKind.DUPLICATE, "in postgres and in the archive since "
          + archived.get().archivedAt() + " (the archive batch that copied it has finished); postgres row removed",
          List.of(new Repair.RemoveFromPostgres(postgres.get().message())), true));
    }

    if (effective.stream().map(Copy::fingerprint).distinct().count() > 1) {
      problems.add(mismatch(effective, truth, good));
    }
    return problems;
  }

  private static Problem mismatch(List<Copy> effective, String truth, Message good) {
    if (truth == null) {
      Map<String, List<String>> byFingerprint = effective.stream().collect(Collectors.groupingBy(Copy::fingerprint,
          LinkedHashMap::new, Collectors.mapping(c -> c.tier().label, Collectors.toList())));
      return Problem.unrepairable(FindingKind.CONTENT_MISMATCH, "copies disagree and no copy holds a majority: "
          + byFingerprint.values().stream().map(t -> String.join("+", t)).collect(Collectors.joining(" vs ")));
    }
    List<Copy> wrong = effective.stream().filter(c -> !truth.equals(c.fingerprint())).toList();
    List<Repair> repairs = new ArrayList<>();
    boolean complete = good != null;
    for (Copy c : wrong) {
      switch (c.tier()) {
        case REDIS -> repairs.add(new Repair.RefillRedis(good));
        case POSTGRES -> repairs.add(new Repair.OverwritePostgres(good));
        case ARCHIVE -> repairs.add(new Repair.CopyToArchive(good));
        // An entry is what the persisters will write; it cannot be edited, only outvoted.
        case STREAM, DEAD_LETTERS -> complete = false;
      }
    }
    String detail = labels(wrong) + " differ" + (wrong.size() == 1 ? "s" : "") + " from "
        + labels(effective.stream().filter(c -> truth.equals(c.fingerprint())).toList());
    return good == null ? Problem.unrepairable(FindingKind.CONTENT_MISMATCH, detail)
        : new Problem(FindingKind.CONTENT_MISMATCH, detail, repairs.stream().distinct().toList(), complete);
  }

  /**
   * The fingerprint that is the truth: the acknowledged copies' when they agree, else a strict
   * majority's of all copies; null when there is no such fingerprint.
   */
  static String truth(List<Copy> effective) {
    List<String> acknowledged = effective.stream().filter(c -> c.tier().acknowledged)
        .map(Copy::fingerprint).distinct().toList();
    if (acknowledged.size() == 1) {
      return acknowledged.get(0);
    }
    Map<String, Long> votes = effective.stream().collect(Collectors.groupingBy(Copy::fingerprint, Collectors.counting()));
    return votes.entrySet().stream().filter(e -> e.getValue() * 2 > effective.size())
        .map(Map.Entry::getKey).findFirst().orElse(null);
  }

  private static String labels(List<Copy> copies) {
    return copies.stream().map(c -> c.tier().label).distinct().collect(Collectors.joining(", "));
  }

  private static String tierOf(List<Copy> effective, Message good) {
    return effective.stream().filter(c -> c.message() == good).findFirst().map(c -> c.tier().label).orElse("?");
  }

  private static Optional<Copy> first(List<Copy> copies, CopyTier tier) {
    return copies.stream().filter(c -> c.tier() == tier).findFirst();
  }

  private static List<Copy> of(List<Copy> copies, CopyTier tier) {
    return copies.stream().filter(c -> c.tier() == tier).toList();
  }
}
