package io.messagestore.server.consistency;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Role;
import io.messagestore.server.clickhouse.ClickHouseArchive;
import io.messagestore.server.consistency.Judgement.Cutoffs;
import io.messagestore.server.consistency.Judgement.Problem;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rules of what is expected and what is a finding, on copies made up here (no tier). */
class JudgementTest {
  private static final Instant NOW = Instant.parse("2026-12-04T12:00:00Z");
  private static final Cutoffs CUTOFFS = new Cutoffs(NOW.minusSeconds(30), NOW.minus(Duration.ofDays(30)),
      NOW.minus(Duration.ofMinutes(5)));
  private static final Cutoffs NO_ARCHIVING = new Cutoffs(NOW.minusSeconds(30), null, NOW.minus(Duration.ofMinutes(5)));
  private static final Instant OLD = NOW.minus(Duration.ofHours(1));
  private static final Instant ANCIENT = NOW.minus(Duration.ofDays(60));

  private static final Message ACKNOWLEDGED = message("what the sender sent");
  private static final Message ALTERED = message("what someone wrote into a tier");

  private static Message message(String content) {
    return Message.newBuilder().setMessageId("0190a000-0000-7000-8000-000000000001").setThreadId("t1")
        .setUserId("alice").setRole(Role.ROLE_USER).setContent(content).putMetadata("k", "v").build();
  }

  private static List<Problem> judge(Instant created, Cutoffs cutoffs, Copy... copies) {
    return Judgement.judge("t1", ACKNOWLEDGED.getMessageId(), created, List.of(copies), cutoffs);
  }

  private static Copy archived(Message m, Instant at) {
    return Copy.archived(ClickHouseArchive.fingerprint(m), at);
  }

  @Test
  void copiesThatAgreeEverywhereAreNoFinding() {
    assertThat(judge(OLD, CUTOFFS, Copy.of(CopyTier.REDIS, ACKNOWLEDGED), Copy.of(CopyTier.POSTGRES, ACKNOWLEDGED)))
        .isEmpty();
  }

  @Test
  void aPostgresRowThatDiffersFromTheRedisCopyGetsTheAcknowledgedContentBack() {
    List<Problem> problems = judge(OLD, CUTOFFS, Copy.of(CopyTier.REDIS, ACKNOWLEDGED),
        Copy.of(CopyTier.POSTGRES, ALTERED));

    assertThat(problems).singleElement().satisfies(p -> {
      assertThat(p.kind()).isEqualTo(FindingKind.CONTENT_MISMATCH);
      assertThat(p.detail()).isEqualTo("postgres differs from redis");
      assertThat(p.repairs()).containsExactly(new Repair.OverwritePostgres(ACKNOWLEDGED));
      assertThat(p.complete()).isTrue();
    });
  }

  @Test
  void theStreamEntryOutvotesAnAlteredRedisCopy() {
    List<Problem> problems = judge(OLD, CUTOFFS, Copy.of(CopyTier.REDIS, ALTERED),
        Copy.of(CopyTier.STREAM, ACKNOWLEDGED), Copy.of(CopyTier.POSTGRES, ACKNOWLEDGED));

    assertThat(problems).singleElement().satisfies(p -> {
      assertThat(p.kind()).isEqualTo(FindingKind.CONTENT_MISMATCH);
      assertThat(p.repairs()).containsExactly(new Repair.RefillRedis(ACKNOWLEDGED));
    });
  }

  @Test
  void postgresAndTheArchiveDisagreeingWithNothingToSettleItIsReportedNotRepaired() {
    List<Problem> problems = judge(ANCIENT, CUTOFFS, Copy.of(CopyTier.POSTGRES, ACKNOWLEDGED),
        archived(ALTERED, NOW.minusSeconds(10)));

    assertThat(problems).singleElement().satisfies(p -> {
      assertThat(p.kind()).isEqualTo(FindingKind.CONTENT_MISMATCH);
      assertThat(p.repairs()).isEmpty();
      assertThat(p.detail()).contains("no copy holds a majority");
    });
  }

  @Test
  void aMessageStillInTheStreamIsPendingNotMissing() {
    assertThat(judge(OLD, CUTOFFS, Copy.of(CopyTier.REDIS, ACKNOWLEDGED), Copy.of(CopyTier.STREAM, ACKNOWLEDGED)))
        .isEmpty();
  }

  @Test
  void aMessageAcknowledgedWithinTheLagBudgetNeedsNoDurableCopyYet() {
    assertThat(judge(NOW.minusSeconds(5), CUTOFFS, Copy.of(CopyTier.REDIS, ACKNOWLEDGED))).isEmpty();
  }

  @Test
  void aMessageOnlyRedisHoldsPastTheLagBudgetIsMissingInPostgresAndWrittenBackFromItsCopy() {
    assertThat(judge(OLD, CUTOFFS, Copy.of(CopyTier.REDIS, ACKNOWLEDGED))).singleElement().satisfies(p -> {
      assertThat(p.kind()).isEqualTo(FindingKind.MISSING_IN_POSTGRES);
      assertThat(p.repairs()).containsExactly(new Repair.InsertIntoPostgres(ACKNOWLEDGED));
    });
  }

  @Test
  void aMessagePastTheHotRetentionInNeitherDurableTierIsCopiedToTheArchiveAgain() {
    assertThat(judge(ANCIENT, CUTOFFS, Copy.of(CopyTier.REDIS, ACKNOWLEDGED))).singleElement().satisfies(p -> {
      assertThat(p.kind()).isEqualTo(FindingKind.MISSING_IN_ARCHIVE);
      assertThat(p.repairs()).containsExactly(new Repair.CopyToArchive(ACKNOWLEDGED));
    });
    assertThat(judge(ANCIENT, NO_ARCHIVING, Copy.of(CopyTier.REDIS, ACKNOWLEDGED)))
        .extracting(Problem::kind).containsExactly(FindingKind.MISSING_IN_POSTGRES);
  }

  @Test
  void anIdOnlyTheRecentIndexHoldsIsLostAndNothingIsInvented() {
    assertThat(judge(OLD, CUTOFFS)).singleElement().satisfies(p -> {
      assertThat(p.kind()).isEqualTo(FindingKind.LOST);
      assertThat(p.repairs()).isEmpty();
    });
  }

  @Test
  void aCorruptRedisCopyIsRefilledFromPostgres() {
    List<Problem> problems = judge(OLD, CUTOFFS, Copy.unreadable(CopyTier.REDIS, "redis copy is not a message"),
        Copy.of(CopyTier.POSTGRES, ACKNOWLEDGED));

    assertThat(problems).singleElement().satisfies(p -> {
      assertThat(p.kind()).isEqualTo(FindingKind.CORRUPT_REDIS_COPY);
      assertThat(p.repairs()).containsExactly(new Repair.RefillRedis(ACKNOWLEDGED));
    });
  }

  @Test
  void aCorruptRedisCopyWithNoOtherCopyIsDroppedAndTheMessageReportedLost() {
    List<Problem> problems = judge(OLD, CUTOFFS, Copy.unreadable(CopyTier.REDIS, "redis copy is not a message"));

    assertThat(problems).extracting(Problem::kind).containsExactly(FindingKind.CORRUPT_REDIS_COPY, FindingKind.LOST);
    assertThat(problems.get(0).repairs()).containsExactly(new Repair.DropRedisCopy("t1", ACKNOWLEDGED.getMessageId()));
  }

  @Test
  void anArchivedMessageNoLongerInPostgresIsExpected() {
    assertThat(judge(ANCIENT, CUTOFFS, archived(ACKNOWLEDGED, NOW.minus(Duration.ofDays(29))))).isEmpty();
  }

  @Test
  void aMessageInPostgresAndTheArchiveIsADuplicateOnlyAfterTheArchiveGrace() {
    assertThat(judge(ANCIENT, CUTOFFS, Copy.of(CopyTier.POSTGRES, ACKNOWLEDGED),
        archived(ACKNOWLEDGED, NOW.minusSeconds(20)))).as("an archive batch in flight").isEmpty();

    List<Problem> problems = judge(ANCIENT, CUTOFFS, Copy.of(CopyTier.POSTGRES, ACKNOWLEDGED),
        archived(ACKNOWLEDGED, NOW.minus(Duration.ofHours(2))));
    assertThat(problems).singleElement().satisfies(p -> {
      assertThat(p.kind()).isEqualTo(FindingKind.DUPLICATE);
      assertThat(p.repairs()).containsExactly(new Repair.RemoveFromPostgres(ACKNOWLEDGED));
    });
  }

  @Test
  void identicalArchiveRowsAwaitingAMergeAreNoDuplicateButDifferingOnesAre() {
    assertThat(judge(ANCIENT, CUTOFFS, archived(ACKNOWLEDGED, OLD), archived(ACKNOWLEDGED, OLD.plusSeconds(1))))
        .isEmpty();

    List<Problem> problems = judge(ANCIENT, CUTOFFS, Copy.of(CopyTier.REDIS, ACKNOWLEDGED),
        archived(ACKNOWLEDGED, OLD), archived(ALTERED, OLD.plusSeconds(1)));
    assertThat(problems).extracting(Problem::kind)
        .containsExactly(FindingKind.DUPLICATE, FindingKind.CONTENT_MISMATCH);
    assertThat(problems).allSatisfy(p -> assertThat(p.repairs()).containsExactly(new Repair.CopyToArchive(ACKNOWLEDGED)));
  }

  @Test
  void aDeadLetteredMessageNotInPostgresIsWrittenBackFromItsEntry() {
    assertThat(judge(OLD, CUTOFFS, Copy.of(CopyTier.DEAD_LETTERS, ACKNOWLEDGED))).singleElement().satisfies(p -> {
      assertThat(p.kind()).isEqualTo(FindingKind.MISSING_IN_POSTGRES);
      assertThat(p.repairs()).containsExactly(new Repair.InsertIntoPostgres(ACKNOWLEDGED));
    });
  }
}
