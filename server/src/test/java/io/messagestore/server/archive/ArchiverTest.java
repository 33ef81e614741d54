package io.messagestore.server.archive;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.messagestore.api.v1.ArchiverStatus;
import io.messagestore.api.v1.GetMessageRequest;
import io.messagestore.api.v1.GetTierStatusRequest;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.ListThreadsRequest;
import io.messagestore.api.v1.MessageStoreGrpc.MessageStoreBlockingStub;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.ThreadSummary;
import io.messagestore.api.v1.Tier;
import io.messagestore.api.v1.Message;
import io.messagestore.server.clickhouse.ClickHouseArchive;
import io.messagestore.server.clickhouse.ClickHouseMessageStore;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.config.ClickHouseSettings;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.TestGateway;
import java.net.URI;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The archiver end to end: a gateway on private Redis and PostgreSQL, the shared ClickHouse in a database of its own. */
class ArchiverTest {
  private static PrivateTiers tiers;
  private static Map<String, String> settings;

  @BeforeAll
  static void start() throws Exception {
    tiers = PrivateTiers.start();
    settings = tiers.settings(Map.of(
        "MESSAGESTORE_CLICKHOUSE_DATABASE", "ms_archiver_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10),
        "MESSAGESTORE_HOT_RETENTION", "PT2S",
        "MESSAGESTORE_ARCHIVE_INTERVAL", "200ms",
        "MESSAGESTORE_ARCHIVE_BATCH", "7"));
  }

  @AfterAll
  static void stop() throws Exception {
    tiers.close();
    try (ClickHouseTier clickhouse = clickhouse()) {
      clickhouse.execute("DROP DATABASE IF EXISTS " + clickhouse.database());
    }
  }

  static long postgresRows(String thread) throws SQLException {
    return Databases.count(settings, "SELECT count(*) FROM messages WHERE thread_id = ?", thread);
  }

  @Test
  void messagesPastTheHotRetentionMoveToTheArchiveAndReadsStillFindEveryOneInOrder() throws Exception {
    try (TestGateway gateway = TestGateway.startWith(settings)) {
      MessageStoreBlockingStub alice = gateway.as("alice");
      String thread = "archived-" + UUID.randomUUID();
      List<String> sent = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        sent.add(alice.sendMessage(SendMessageRequest.newBuilder().setThreadId(thread).setRole(Role.ROLE_USER)
            .setContent("message " + i).putMetadata("i", Integer.toString(i)).build()).getMessage().getMessageId());
      }

      Poll.until(Duration.ofSeconds(60), "every message to leave PostgreSQL", () -> {
        try {
          return postgresRows(thread) == 0
              && Databases.count(settings, "SELECT archived_messages FROM threads WHERE thread_id = ?", thread) == 30;
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      });
      // Redis forgets the thread's copies, as it does after MESSAGE_TTL: reads must go to the archive.
      try (RedisClient client = RedisClient.create(settings.get("MESSAGESTORE_REDIS_URI"));
          StatefulRedisConnection<String, String> redis = client.connect()) {
        redis.sync().flushall();
      }
      var got = alice.getMessage(GetMessageRequest.newBuilder().setThreadId(thread).setMessageId(sent.get(17)).build());
      assertThat(got.getServedFrom()).isEqualTo(Tier.TIER_CLICKHOUSE);
      assertThat(got.getMessage().getContent()).isEqualTo("message 17");
      assertThat(got.getMessage().getMetadataMap()).containsEntry("i", "17");

      assertThat(listAll(alice, thread, false)).containsExactlyElementsOf(sent);
      List<String> newestFirst = listAll(alice, thread, true);
      List<String> reversed = new ArrayList<>(sent);
      java.util.Collections.reverse(reversed);
      assertThat(newestFirst).containsExactlyElementsOf(reversed);

      ThreadSummary summary = alice.listThreads(ListThreadsRequest.getDefaultInstance()).getThreads(0);
      assertThat(summary.getThreadId()).isEqualTo(thread);
      assertThat(summary.getMessageCount()).as("ListThreads count after archiving").isEqualTo(30);

      Poll.until(Duration.ofSeconds(10), "the archiver's run to show in GetTierStatus", () -> {
        ArchiverStatus status = gateway.admin().getTierStatus(GetTierStatusRequest.getDefaultInstance()).getArchiver();
        return status.getEnabled() && !status.getHolder().isEmpty() && status.getBacklog() == 0
            && status.hasLastRunAt();
      });
    }
  }

  @Test
  void theFeederDropsArchivePartitionsPastTheArchiveRetentionAndNothingNewer() throws Exception {
    Map<String, String> expiring = new java.util.HashMap<>(settings);
    expiring.put("MESSAGESTORE_ARCHIVE_RETENTION", "30d");
    String thread = "expiring-" + UUID.randomUUID();
    Message old = message(thread, "2020-01-15T10:00:00Z");
    Message recent = message(thread, java.time.Instant.now().minus(Duration.ofDays(1)).toString());
    try (ClickHouseTier clickhouse = clickhouse()) {
      clickhouse.ensureSchema();
      new ClickHouseArchive(clickhouse).copy(List.of(old, recent), java.time.Instant.now());
      try (TestGateway gateway = TestGateway.startWith(expiring)) {
        Poll.until(Duration.ofSeconds(30), "the 2020 partition to be dropped",
            () -> archived(clickhouse, thread).equals(List.of(recent.getMessageId())));
      }
    }
  }

  private static ClickHouseTier clickhouse() {
    return new ClickHouseTier(new ClickHouseSettings(URI.create(settings.get("MESSAGESTORE_CLICKHOUSE_URL")),
        settings.get("MESSAGESTORE_CLICKHOUSE_DATABASE"), Duration.ofSeconds(10)));
  }

  private static List<String> archived(ClickHouseTier clickhouse, String thread) {
    try {
      return new ClickHouseMessageStore(clickhouse).page(thread, null, null, 10, false).stream()
          .map(Message::getMessageId).toList();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static Message message(String thread, String at) {
    java.time.Instant t = java.time.Instant.parse(at);
    String id = new UUID((t.toEpochMilli() << 16) | 0x7abc, 0x8000000000000001L).toString();
    return Message.newBuilder().setMessageId(id).setThreadId(thread).setUserId("alice").setRole(Role.ROLE_USER)
        .setContent("at " + at).setCreatedAt(com.google.protobuf.Timestamp.newBuilder()
            .setSeconds(t.getEpochSecond()).build()).build();
  }

  static List<String> listAll(MessageStoreBlockingStub stub, String thread, boolean newestFirst) {
    List<String> ids = new ArrayList<>();
    String token = "";
    do {
      ListMessagesResponse page = stub.listMessages(ListMessagesRequest.newBuilder().setThreadId(thread)
          .setPageSize(4).setNewestFirst(newestFirst).setPageToken(token).build());
      page.getMessagesList().forEach(m -> ids.add(m.getMessageId()));
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return ids;
  }
}
