package io.messagestore.server.consistency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.groups.Tuple.tuple;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.messagestore.api.v1.CheckConsistencyRequest;
import io.messagestore.api.v1.CheckConsistencyResponse;
import io.messagestore.api.v1.Inconsistency;
import io.messagestore.api.v1.MessageStoreAdminGrpc;
import io.messagestore.api.v1.MessageStoreGrpc.MessageStoreBlockingStub;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.config.ClickHouseSettings;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.GatewayProcess;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import io.messagestore.server.write.MessageIdGenerator;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CheckConsistency with the archive in play, the background sampler, and a scope of 100,000
 * messages: private Redis and PostgreSQL (the archiver moves every thread of its database), the
 * shared ClickHouse in a database of its own.
 */
class ConsistencyArchiveTest {
  private static PrivateTiers tiers;
  private static Map<String, String> settings;

  @BeforeAll
  static void start() throws Exception {
    tiers = PrivateTiers.start();
    settings = tiers.settings(Map.of(
        "MESSAGESTORE_CLICKHOUSE_DATABASE", "ms_consistency_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10),
        "MESSAGESTORE_CONSISTENCY_LAG_BUDGET", "1ms",
        "MESSAGESTORE_CONSISTENCY_SAMPLE_INTERVAL", "0"));
  }

  @AfterAll
  static void stop() throws Exception {
    tiers.close();
    try (ClickHouseTier clickhouse = clickhouse()) {
      clickhouse.execute("DROP DATABASE IF EXISTS " + clickhouse.database());
    }
  }

  private static Map<String, String> with(String... keyValues) {
    Map<String, String> s = new HashMap<>(settings);
    for (int i = 0; i < keyValues.length; i += 2) {
      s.put(keyValues[i], keyValues[i + 1]);
    }
    return s;
  }

  private static ClickHouseTier clickhouse() {
    return new ClickHouseTier(new ClickHouseSettings(URI.create(settings.get("MESSAGESTORE_CLICKHOUSE_URL")),
        settings.get("MESSAGESTORE_CLICKHOUSE_DATABASE"), Duration.ofSeconds(10)));
  }

  private static long count(String sql, Object... params) {
    try {
      return Databases.count(settings, sql, params);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> send(TestGateway gateway, String thread, int n) {
    MessageStoreBlockingStub alice = gateway.as("alice");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(alice.sendMessage(SendMessageRequest.newBuilder().setThreadId(thread).setRole(Role.ROLE_USER)
          .setContent("archived " + i).build()).getMessage().getMessageId());
    }
    return ids;
  }

  private static CheckConsistencyResponse checkThread(TestGateway gateway, String thread, boolean repair) {
    return gateway.admin().checkConsistency(CheckConsistencyRequest.newBuilder().setThreadId(thread).setRepair(repair)
        .build());
  }

  @Test
  void anArchivedThreadChecksCleanAndAnArchiveRowLostBehindItsBackIsCopiedAgain() throws Exception {
    try (TestGateway gateway = TestGateway.startWith(with("MESSAGESTORE_HOT_RETENTION", "PT2S",
        "MESSAGESTORE_ARCHIVE_INTERVAL", "200ms"))) {
      String thread = "archived-" + UUID.randomUUID();
      Instant start = Instant.now();
      List<String> ids = send(gateway, thread, 12);
      Instant end = Instant.now();
      Poll.until(Duration.ofSeconds(60), "every message to move to the archive",
          () -> count("SELECT count(*) FROM messages WHERE thread_id = ?", thread) == 0
              && count("SELECT archived_messages FROM threads WHERE thread_id = ?", thread) == 12);

      CheckConsistencyResponse clean = checkThread(gateway, thread, false);
      assertThat(clean.getCheckedMessages()).isEqualTo(12);
      assertThat(clean.getScore()).isEqualTo(1.0);
      assertThat(clean.getInconsistenciesList()).isEmpty();
      CheckConsistencyResponse window = gateway.admin().checkConsistency(CheckConsistencyRequest.newBuilder()
          .setWindowStart(ts(start)).setWindowEnd(ts(end)).build());
      assertThat(window.getCheckedMessages()).isEqualTo(12);
      assertThat(window.getInconsistenciesList()).isEmpty();

      String gone = ids.get(4);
      try (ClickHouseTier clickhouse = clickhouse()) {
        clickhouse.execute("ALTER TABLE " + clickhouse.database() + ".messages_archive DELETE WHERE message_id = toUUID('"
            + gone + "')");
        Poll.until(Duration.ofSeconds(30), "the archive row to be deleted", () -> {
          try {
            return clickhouse.execute("SELECT count() FROM " + clickhouse.database()
                + ".messages_archive WHERE message_id = toUUID('" + gone + "') FORMAT TabSeparated").strip().equals("0");
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
      }

      CheckConsistencyResponse found = checkThread(gateway, thread, false);
      assertThat(found.getInconsistenciesList()).extracting(Inconsistency::getMessageId, Inconsistency::getKind)
          .containsExactlyInAnyOrder(tuple(gone, "missing_in_archive"), tuple("", "missing_in_archive"));

      CheckConsistencyResponse repaired = checkThread(gateway, thread, true);
      assertThat(repaired.getInconsistenciesList()).extracting(Inconsistency::getMessageId, Inconsistency::getRepaired)
          .containsExactly(tuple(gone, true));
      assertThat(checkThread(gateway, thread, false).getInconsistenciesList()).isEmpty();
    }
  }

  @Test
  void theSamplerExportsTheScoreAndTheFindingsOfRecentMessages() throws Exception {
    try (TestGateway gateway = TestGateway.startWith(with("MESSAGESTORE_HOT_RETENTION", "off",
        "MESSAGESTORE_CONSISTENCY_SAMPLE_INTERVAL", "200ms", "MESSAGESTORE_CONSISTENCY_SAMPLE_WINDOW", "1h"))) {
      String thread = "sampled-" + UUID.randomUUID();
      String id = send(gateway, thread, 1).get(0);
      Poll.until(Duration.ofSeconds(30), "the message in PostgreSQL",
          () -> count("SELECT count(*) FROM messages WHERE message_id = ?::uuid", id) == 1);
      try (Connection c = Databases.connect(settings);
          PreparedStatement ps = c.prepareStatement("UPDATE messages SET content = 'forged' WHERE message_id = ?::uuid")) {
        ps.setString(1, id);
        ps.executeUpdate();
      }

      Poll.until(Duration.ofSeconds(30), "the sampler to count the changed row", () -> {
        String scrape = gateway.gateway().meters().scrape();
        return scrape.contains("messagestore_consistency_findings_total{kind=\"content_mismatch\"} 1.0")
            && scrape.lines().anyMatch(l -> l.startsWith("messagestore_consistency_score ") && !l.endsWith(" 1.0"));
      });
    }
  }

  @Test
  void aThreadOfOneHundredThousandMessagesIsCheckedInPagesWithinItsDeadlineOnASmallHeap() throws Exception {
    String thread = "large-" + UUID.randomUUID();
    int n = 100_000;
    Instant first = Instant.now().minus(Duration.ofHours(2));
    // 100,000 messages of 1 KiB: twice the heap if a check held them at once.
    try (GatewayProcess gateway = GatewayProcess.startServing(with("MESSAGESTORE_HOT_RETENTION", "off",
        "MESSAGESTORE_CONSISTENCY_MAX_CONCURRENT_CHECKS", "1"), "160m")) {
      seed(thread, n, first); // once the gateway has created the schema
      var admin = MessageStoreAdminGrpc.newBlockingStub(gateway.channel())
          .withCallCredentials(Tokens.bearer(Tokens.admin("ops")));

      // A caller that gives up stops its check: the check ends as cancelled, not completed.
      assertThatThrownBy(() -> admin.withDeadlineAfter(300, TimeUnit.MILLISECONDS)
          .checkConsistency(CheckConsistencyRequest.newBuilder().setThreadId(thread).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
      Poll.until(Duration.ofSeconds(60), "the check past its deadline to stop", () ->
          metric(gateway, "messagestore_consistency_checks_total{outcome=\"cancelled\"} 1.0"));
      assertThat(metric(gateway, "messagestore_consistency_checks_total{outcome=\"completed\"")).isFalse();

      var futureAdmin = MessageStoreAdminGrpc.newFutureStub(gateway.channel())
          .withCallCredentials(Tokens.bearer(Tokens.admin("ops")));
      java.util.function.Supplier<com.google.common.util.concurrent.ListenableFuture<CheckConsistencyResponse>>
          startByThread = () -> futureAdmin.withDeadlineAfter(120, TimeUnit.SECONDS)
              .checkConsistency(CheckConsistencyRequest.newBuilder().setThreadId(thread).build());
      var running = new java.util.concurrent.atomic.AtomicReference<>(startByThread.get());
      // One check at a time here: another one meanwhile is refused at once, not queued behind it.
      String[] refusal = new String[1];
      Poll.until(Duration.ofSeconds(30), "a second check to be refused while the first runs", () -> {
        if (running.get().isDone()) {
          try {
            throw new AssertionError("the first check ended before a second one was refused: " + running.get().get());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
          } catch (java.util.concurrent.ExecutionException e) {
            if (Status.fromThrowable(e).getCode() != Status.Code.RESOURCE_EXHAUSTED) {
              throw new AssertionError("the first check failed", e);
            }
            // The calls' order on the wire is not the order they were made in: a probe
            // overtook it and held the slot. Start it again.
            running.set(startByThread.get());
            return false;
          }
        }
        try {
          admin.withDeadlineAfter(30, TimeUnit.SECONDS).checkConsistency(CheckConsistencyRequest.newBuilder()
              .setThreadId(thread).setMessageId(UUID.randomUUID().toString()).build());
          return false; // admitted before the first check took its slot
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
            return false; // admitted likewise: no such message
          }
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          refusal[0] = e.getStatus().getDescription();
          return true;
        }
      });
      assertThat(refusal[0]).contains("MESSAGESTORE_CONSISTENCY_MAX_CONCURRENT_CHECKS");
      CheckConsistencyResponse byThread = running.get().get(120, TimeUnit.SECONDS);
      assertThat(byThread.getCheckedMessages()).isEqualTo(n);
      assertThat(byThread.getScore()).isEqualTo(1.0);

      CheckConsistencyResponse byWindow = admin.withDeadlineAfter(120, TimeUnit.SECONDS)
          .checkConsistency(CheckConsistencyRequest.newBuilder().setWindowStart(ts(first))
              .setWindowEnd(ts(first.plusMillis(n))).build());
      assertThat(byWindow.getCheckedMessages()).isEqualTo(n);
      assertThat(byWindow.getScore()).isEqualTo(1.0);
      assertThat(gateway.process().isAlive()).as(gateway.output()).isTrue();
    }
  }

  private static boolean metric(GatewayProcess gateway, String line) {
    try {
      String scrape = new String(java.net.URI.create("http://127.0.0.1:" + gateway.metricsPort() + "/metrics").toURL()
          .openStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      return scrape.contains(line);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes {@code n} messages of one thread straight into PostgreSQL, one per millisecond from {@code first}. */
  private static void seed(String thread, int n, Instant first) throws SQLException {
    String content = "x".repeat(1024);
    try (Connection c = Databases.connect(settings)) {
      for (int from = 0; from < n; from += 10_000) {
        int to = Math.min(n, from + 10_000);
        String[] ids = new String[to - from];
        for (int i = from; i < to; i++) {
          ids[i - from] = MessageIdGenerator.firstIdAt(first.toEpochMilli() + i);
        }
        try (PreparedStatement ps = c.prepareStatement("""
            INSERT INTO messages (message_id, thread_id, user_id, role, content, metadata, created_at)
            SELECT id, ?, 'alice', 1, ?, '{}'::jsonb, timestamptz 'epoch' + ((? + o - 1) * interval '1 millisecond')
            FROM unnest(?::uuid[]) WITH ORDINALITY AS t(id, o)""")) {
          ps.setString(1, thread);
          ps.setString(2, content);
          ps.setLong(3, first.toEpochMilli() + from);
          ps.setArray(4, c.createArrayOf("uuid", ids));
          ps.executeUpdate();
        }
      }
      try (PreparedStatement ps = c.prepareStatement("""
          INSERT INTO threads (thread_id, user_id, created_at, last_activity_at, message_count)
          VALUES (?, 'alice', ?, ?, ?)""")) {
        ps.setString(1, thread);
        ps.setTimestamp(2, java.sql.Timestamp.from(first));
        ps.setTimestamp(3, java.sql.Timestamp.from(first.plusMillis(n)));
        ps.setLong(4, n);
        ps.executeUpdate();
      }
    }
  }

  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }
}
