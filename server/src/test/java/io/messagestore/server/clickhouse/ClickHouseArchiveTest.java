package io.messagestore.server.clickhouse;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Role;
import io.messagestore.server.config.ClickHouseSettings;
import io.messagestore.server.testing.LocalTiers;
import io.messagestore.server.testing.Poll;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The ClickHouse side of archiving, analytics, retention and erasure, on a real server. */
class ClickHouseArchiveTest {
  private static final AtomicInteger SEQUENCE = new AtomicInteger();
  private static ClickHouseTier tier;

  @BeforeAll
  static void schema() {
    String database = "ms_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    tier = new ClickHouseTier(new ClickHouseSettings(
        URI.create(LocalTiers.shared().get("MESSAGESTORE_CLICKHOUSE_URL")), database, Duration.ofSeconds(10)));
    assertThat(tier.ensureSchema()).isTrue();
  }

  @AfterAll
  static void dropDatabase() throws Exception {
    tier.execute("DROP DATABASE IF EXISTS " + tier.database());
    tier.close();
  }

  private static Message message(String thread, Instant at, String content, Map<String, String> metadata) {
    // A UUIDv7 of that millisecond: the archive orders and bounds ids as text, as every tier does.
    long ms = at.toEpochMilli();
    UUID id = new UUID((ms << 16) | 0x7000 | (SEQUENCE.incrementAndGet() & 0xfff),
        0x8000000000000000L | (UUID.randomUUID().getLeastSignificantBits() & 0x3fffffffffffffffL));
    return Message.newBuilder().setMessageId(id.toString()).setThreadId(thread).setUserId("alice")
        .setRole(Role.ROLE_ASSISTANT).setContent(content).putAllMetadata(metadata)
        .setCreatedAt(Timestamp.newBuilder().setSeconds(ms / 1000).setNanos((int) (ms % 1000) * 1_000_000)).build();
  }

  @Test
  void archivedRowsReadBackWithTheFingerprintsOfTheirMessages() throws Exception {
    ClickHouseArchive archive = new ClickHouseArchive(tier);
    String thread = "t-" + UUID.randomUUID();
    List<Message> batch = List.of(
        message(thread, Instant.now(), "plain", Map.of()),
        message(thread, Instant.now(), "line\nbreaks, 'quotes', \\backslash\\ and ünïcödé 😀", Map.of("b", "2", "a", "x\ny")),
        message(thread, Instant.now(), "\t", Map.of("k", "")));

    archive.copy(batch, Instant.now());
    archive.copy(batch.subList(0, 1), Instant.now()); // a repeated copy, as after a crash

    Map<String, String> expected = batch.stream()
        .collect(Collectors.toMap(Message::getMessageId, ClickHouseArchive::fingerprint));
    assertThat(archive.storedFingerprints(batch)).isEqualTo(expected);
    ClickHouseMessageStore reader = new ClickHouseMessageStore(tier);
    assertThat(reader.page(thread, null, null, 10, false)).containsExactlyElementsOf(batch);
  }

  @Test
  void aMessageTheArchiveDoesNotHoldHasNoFingerprint() throws Exception {
    Message absent = message("t-" + UUID.randomUUID(), Instant.now(), "never copied", Map.of());

    assertThat(new ClickHouseArchive(tier).storedFingerprints(List.of(absent))).isEmpty();
  }

  @Test
  void retentionDropsWholeMonthsOlderThanTheCutoffAndNothingNewer() throws Exception {
    ClickHouseArchive archive = new ClickHouseArchive(tier);
    String thread = "t-" + UUID.randomUUID();
    Message old = message(thread, Instant.parse("2020-01-15T10:00:00Z"), "old", Map.of());
    Message boundary = message(thread, Instant.parse("2020-02-29T23:59:59Z"), "end of February", Map.of());
    Message recent = message(thread, Instant.parse("2020-03-01T00:00:00Z"), "March", Map.of());
    archive.copy(List.of(old, boundary, recent), Instant.now());

    List<String> dropped = new ArchiveRetention(tier).dropOlderThan(Instant.parse("2020-03-10T00:00:00Z"));

    assertThat(dropped).contains("messages_archive/202001", "messages_archive/202002")
        .doesNotContain("messages_archive/202003");
    assertThat(new ClickHouseMessageStore(tier).page(thread, null, null, 10, false)).containsExactly(recent);
  }

  @Test
  void aMonthIsWhollyBeforeTheCutoffOnlyOnceTheNextMonthHasBegun() {
    assertThat(ArchiveRetention.whollyBefore("202602", Instant.parse("2026-03-01T00:00:00Z"))).isTrue();
    assertThat(ArchiveRetention.whollyBefore("202602", Instant.parse("2026-02-28T23:59:59Z"))).isFalse();
    assertThat(ArchiveRetention.whollyBefore("202612", Instant.parse("2027-01-01T00:00:00Z"))).isTrue();
  }

  @Test
  void threadStatsCountByRoleOnceEvenWhenFactsArriveTwice() throws Exception {
    MessageFacts facts = new MessageFacts(tier);
    String thread = "t-" + UUID.randomUUID();
    List<MessageFacts.Fact> rows = List.of(
        new MessageFacts.Fact(UUID.randomUUID().toString(), thread, "alice", Role.ROLE_USER_VALUE, 5, 1_700_000_000_123L),
        new MessageFacts.Fact(UUID.randomUUID().toString(), thread, "alice", Role.ROLE_ASSISTANT_VALUE, 7, 1_700_000_001_456L),
        new MessageFacts.Fact(UUID.randomUUID().toString(), thread, "alice", Role.ROLE_USER_VALUE, 11, 1_700_000_002_789L));

    facts.add(rows);
    facts.add(rows.subList(0, 2));

    MessageFacts.ThreadStats stats = facts.stats(thread);
    assertThat(stats.messageCount()).isEqualTo(3);
    assertThat(stats.messagesByRole()).containsOnly(Map.entry("ROLE_USER", 2L), Map.entry("ROLE_ASSISTANT", 1L));
    assertThat(stats.totalContentBytes()).isEqualTo(23);
    assertThat(stats.firstMessageAt()).contains(Instant.ofEpochMilli(1_700_000_000_123L));
    assertThat(stats.lastMessageAt()).contains(Instant.ofEpochMilli(1_700_000_002_789L));
    assertThat(facts.stats("t-unknown").messageCount()).isZero();
  }

  @Test
  void erasureRemovesTheErasedIncarnationAndKeepsLaterMessages() throws Exception {
    ClickHouseArchive archive = new ClickHouseArchive(tier);
    MessageFacts facts = new MessageFacts(tier);
    String thread = "t-" + UUID.randomUUID();
    Message before = message(thread, Instant.now().minusSeconds(60), "erased", Map.of());
    Message after = message(thread, Instant.now().plusSeconds(60), "claimed again", Map.of());
    archive.copy(List.of(before, after), Instant.now());
    facts.add(List.of(new MessageFacts.Fact(before.getMessageId(), thread, "alice", 1, 6, 1L)));
    ArchiveErasure erasure = new ArchiveErasure(tier);

    erasure.submit(thread, before.getMessageId());

    Poll.until(Duration.ofSeconds(30), "clickhouse mutations to run", () -> {
      try {
        return erasure.remaining(thread, before.getMessageId()) == 0;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(new ClickHouseMessageStore(tier).page(thread, null, null, 10, false)).containsExactly(after);
    assertThat(facts.stats(thread).messageCount()).isZero();
  }
}
