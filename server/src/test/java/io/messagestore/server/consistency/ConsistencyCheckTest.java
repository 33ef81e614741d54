package io.messagestore.server.consistency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.messagestore.api.v1.CheckConsistencyRequest;
import io.messagestore.api.v1.CheckConsistencyResponse;
import io.messagestore.api.v1.GetMessageRequest;
import io.messagestore.api.v1.Inconsistency;
import io.messagestore.api.v1.MessageStoreAdminGrpc;
import io.messagestore.api.v1.MessageStoreGrpc.MessageStoreBlockingStub;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** CheckConsistency against the shared Redis, PostgreSQL and ClickHouse, with tiers changed behind the gateway's back. */
class ConsistencyCheckTest {
  private static TestGateway gateway;
  private static Map<String, String> settings;

  @BeforeAll
  static void start() throws Exception {
    // A message a millisecond old may lack its PostgreSQL row: the tests wait for persistence first.
    gateway = TestGateway.start(Map.of("MESSAGESTORE_CONSISTENCY_LAG_BUDGET", "1ms",
        "MESSAGESTORE_CONSISTENCY_SAMPLE_INTERVAL", "0"));
    settings = TestGateway.settings(Map.of());
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  private static List<String> sendPersisted(String thread, int n) {
    MessageStoreBlockingStub alice = gateway.as("alice");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(alice.sendMessage(SendMessageRequest.newBuilder().setThreadId(thread).setRole(Role.ROLE_USER)
          .setContent("message " + i).putMetadata("i", Integer.toString(i)).build()).getMessage().getMessageId());
    }
    Poll.until(Duration.ofSeconds(30), "the thread's messages to reach PostgreSQL", () -> {
      try {
        return Databases.count(settings, "SELECT count(*) FROM messages WHERE thread_id = ?", thread) == n;
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    });
    return ids;
  }

  private static CheckConsistencyResponse check(String thread, boolean repair) {
    return gateway.admin().checkConsistency(CheckConsistencyRequest.newBuilder().setThreadId(thread)
        .setRepair(repair).build());
  }

  @Test
  void aHealthyThreadScoresOneWithNoFindings() {
    String thread = "healthy-" + UUID.randomUUID();
    sendPersisted(thread, 20);

    CheckConsistencyResponse response = check(thread, false);

    assertThat(response.getCheckedMessages()).isEqualTo(20);
    assertThat(response.getScore()).isEqualTo(1.0);
    assertThat(response.getInconsistenciesList()).isEmpty();
  }

  @Test
  void onlyAnAdminMayCheck() {
    var notAdmin = MessageStoreAdminGrpc.newBlockingStub(gateway.channel())
        .withCallCredentials(Tokens.bearer(Tokens.user("alice"))).withDeadlineAfter(10, TimeUnit.SECONDS);

    assertThatThrownBy(() -> notAdmin.checkConsistency(CheckConsistencyRequest.newBuilder().setThreadId("t").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
  }

  @Test
  void aRequestWithNoScopeOrTwoScopesIsInvalid() {
    Timestamp now = Timestamp.newBuilder().setSeconds(Instant.now().getEpochSecond()).build();
    assertInvalid(CheckConsistencyRequest.getDefaultInstance(), "no scope");
    assertInvalid(CheckConsistencyRequest.newBuilder().setThreadId("t").setWindowStart(now).setWindowEnd(now).build(),
        "give one scope");
    assertInvalid(CheckConsistencyRequest.newBuilder().setMessageId(UUID.randomUUID().toString()).build(),
        "message_id needs its thread_id");
    assertInvalid(CheckConsistencyRequest.newBuilder().setWindowStart(now).build(), "needs both");
    assertInvalid(CheckConsistencyRequest.newBuilder().setWindowStart(now)
        .setWindowEnd(Timestamp.newBuilder().setSeconds(now.getSeconds() - 60)).build(), "is before window_start");
    assertInvalid(CheckConsistencyRequest.newBuilder().setThreadId("t").setMessageId("not-a-uuid").build(),
        "is not a message id");
  }

  private static void assertInvalid(CheckConsistencyRequest request, String description) {
    assertThatThrownBy(() -> gateway.admin().checkConsistency(request))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains(description);
        });
  }

  @Test
  void aThreadWhoseOwnerRedisAndPostgresDisagreeOnIsReported() throws Exception {
    String thread = "owners-" + UUID.randomUUID();
    sendPersisted(thread, 3);
    RedisKeys keys = new RedisKeys(gateway.config().persistence().streamShards());
    try (RedisClient client = RedisClient.create(settings.get("MESSAGESTORE_REDIS_URI"));
        StatefulRedisConnection<String, String> redis = client.connect()) {
      redis.sync().set(keys.owner(thread), "mallory");
    }

    CheckConsistencyResponse found = check(thread, false);

    assertThat(found.getInconsistenciesList()).singleElement().satisfies(i -> {
      assertThat(i.getKind()).isEqualTo("owner_mismatch");
      assertThat(i.getThreadId()).isEqualTo(thread);
      assertThat(i.getDetail()).contains("'mallory'").contains("'alice'");
    });
  }

  @Test
  void tamperedTiersAreReportedByIdAndKindAndRepairedToTheAcknowledgedContent() throws Exception {
    String thread = "tampered-" + UUID.randomUUID();
    List<String> ids = sendPersisted(thread, 10);
    String changed = ids.get(2);
    String deleted = ids.get(5);
    String corrupted = ids.get(7);
    try (Connection c = gateway.postgres()) {
      update(c, "UPDATE messages SET content = 'forged' WHERE message_id = ?::uuid", changed);
      update(c, "DELETE FROM messages WHERE message_id = ?::uuid", deleted);
    }
    RedisKeys keys = new RedisKeys(gateway.config().persistence().streamShards());
    try (RedisClient client = RedisClient.create(settings.get("MESSAGESTORE_REDIS_URI"));
        StatefulRedisConnection<String, String> redis = client.connect()) {
      redis.sync().set(keys.message(thread, corrupted), "\u0000garbage that is no message");
    }

    CheckConsistencyResponse found = check(thread, false);

    assertThat(found.getCheckedMessages()).isEqualTo(10);
    assertThat(found.getScore()).isEqualTo(0.7);
    assertThat(found.getInconsistenciesList()).extracting(Inconsistency::getMessageId, Inconsistency::getKind,
        Inconsistency::getRepaired).contains(
            org.assertj.core.groups.Tuple.tuple(changed, "content_mismatch", false),
            org.assertj.core.groups.Tuple.tuple(deleted, "missing_in_postgres", false),
            org.assertj.core.groups.Tuple.tuple(corrupted, "corrupt_redis_copy", false),
            org.assertj.core.groups.Tuple.tuple("", "counter_mismatch", false));
    assertThat(found.getInconsistenciesList()).filteredOn(i -> i.getMessageId().equals(changed)).singleElement()
        .extracting(Inconsistency::getDetail).asString().contains("postgres differs from redis");

    CheckConsistencyResponse repaired = check(thread, true);

    assertThat(repaired.getInconsistenciesList()).filteredOn(i -> !i.getMessageId().isEmpty())
        .hasSize(3).allMatch(Inconsistency::getRepaired);
    CheckConsistencyResponse again = check(thread, false);
    assertThat(again.getScore()).isEqualTo(1.0);
    assertThat(again.getInconsistenciesList()).isEmpty();

    assertThat(Databases.value(settings, "SELECT content FROM messages WHERE message_id = ?::uuid", changed))
        .isEqualTo("message 2");
    assertThat(Databases.value(settings, "SELECT content FROM messages WHERE message_id = ?::uuid", deleted))
        .isEqualTo("message 5");
    assertThat(Databases.count(settings, "SELECT message_count FROM threads WHERE thread_id = ?", thread)).isEqualTo(10);
    MessageStoreBlockingStub alice = gateway.as("alice");
    for (int i : new int[] {2, 5, 7}) {
      assertThat(alice.getMessage(GetMessageRequest.newBuilder().setThreadId(thread).setMessageId(ids.get(i)).build())
          .getMessage().getContent()).isEqualTo("message " + i);
    }
  }

  @Test
  void oneMessageCanBeCheckedAndOneNoTierHoldsIsNotFound() {
    String thread = "single-" + UUID.randomUUID();
    List<String> ids = sendPersisted(thread, 2);

    CheckConsistencyResponse response = gateway.admin().checkConsistency(CheckConsistencyRequest.newBuilder()
        .setThreadId(thread).setMessageId(ids.get(1)).build());
    assertThat(response.getCheckedMessages()).isEqualTo(1);
    assertThat(response.getScore()).isEqualTo(1.0);

    assertThatThrownBy(() -> gateway.admin().checkConsistency(CheckConsistencyRequest.newBuilder()
        .setThreadId(thread).setMessageId(UUID.randomUUID().toString()).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void aWindowCoversTheMessagesCreatedInItAndReportsWhatWasChangedThere() throws Exception {
    Instant start = Instant.now();
    String thread = "window-" + UUID.randomUUID();
    List<String> ids = sendPersisted(thread, 15);
    Instant end = Instant.now();
    try (Connection c = gateway.postgres()) {
      update(c, "UPDATE messages SET metadata = '{\"i\": \"forged\"}' WHERE message_id = ?::uuid", ids.get(3));
    }

    CheckConsistencyResponse response = gateway.admin().checkConsistency(CheckConsistencyRequest.newBuilder()
        .setWindowStart(ts(start)).setWindowEnd(ts(end)).build());

    // Other threads' messages of the same moment may be in the window too.
    assertThat(response.getCheckedMessages()).isGreaterThanOrEqualTo(15);
    assertThat(response.getInconsistenciesList()).filteredOn(i -> i.getThreadId().equals(thread))
        .extracting(Inconsistency::getMessageId, Inconsistency::getKind)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(ids.get(3), "content_mismatch"));
  }

  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  private static void update(Connection c, String sql, String id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, id);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
  }
}
