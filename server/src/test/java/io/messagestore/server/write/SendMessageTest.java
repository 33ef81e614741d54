package io.messagestore.server.write;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.messagestore.api.v1.Durability;
import io.messagestore.api.v1.GetMessageRequest;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageBatchRequest;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SendMessageTest {
  static TestGateway gw;

  @BeforeAll
  static void start() throws Exception {
    gw = TestGateway.start();
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  static String thread() {
    return "t-" + UUID.randomUUID();
  }

  static SendMessageRequest msg(String thread, String content) {
    return SendMessageRequest.newBuilder().setThreadId(thread).setRole(Role.ROLE_USER).setContent(content)
        .putMetadata("k", "v").build();
  }

  @Test
  void sentMessageLandsInPostgresWithSameIdAndContent() throws Exception {
    String t = thread();
    SendMessageResponse r = gw.as("alice").sendMessage(msg(t, "hello postgres"));
    assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_REDIS);
    assertThat(r.getDuplicate()).isFalse();
    assertThat(r.getFailoverReason()).isEmpty();
    String id = r.getMessage().getMessageId();
    assertThat(UUID.fromString(id).version()).isEqualTo(7);

    Poll.until(Duration.ofSeconds(10), "message in postgres", () -> {
      try (Connection c = gw.postgres();
          PreparedStatement ps = c.prepareStatement(
              "SELECT thread_id, user_id, content, metadata->>'k', persisted_at FROM messages WHERE message_id = ?::uuid")) {
        ps.setString(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return false;
          }
          assertThat(rs.getString(1)).isEqualTo(t);
          assertThat(rs.getString(2)).isEqualTo("alice");
          assertThat(rs.getString(3)).isEqualTo("hello postgres");
          assertThat(rs.getString(4)).isEqualTo("v");
          return true;
        }
      } catch (java.sql.SQLException e) {
        throw new RuntimeException(e);
      }
    });
    assertThat(Databases.count(TestGateway.settings(Map.of()),
        "SELECT message_count FROM threads WHERE thread_id = ?", t)).isEqualTo(1);
  }

  @Test
  void idsOfOneThreadStrictlyIncrease() {
    String t = thread();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      ids.add(gw.as("alice").sendMessage(msg(t, "m" + i)).getMessage().getMessageId());
    }
    assertThat(ids).isSorted().doesNotHaveDuplicates();
  }

  @Test
  void twentyConcurrentDuplicatesStoreOneMessage() throws Exception {
    String t = thread();
    SendMessageRequest req = msg(t, "once").toBuilder().setIdempotencyKey("key-1").build();
    List<ListenableFuture<SendMessageResponse>> calls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      calls.add(gw.asyncAs("alice").withDeadlineAfter(10, TimeUnit.SECONDS).sendMessage(req));
    }
    List<SendMessageResponse> responses = new ArrayList<>();
    for (var f : calls) {
      responses.add(f.get(10, TimeUnit.SECONDS));
    }
    assertThat(responses.stream().filter(r -> !r.getDuplicate()).count()).isEqualTo(1);
    assertThat(responses.stream().filter(SendMessageResponse::getDuplicate).count()).isEqualTo(19);
    Set<String> ids = responses.stream().map(r -> r.getMessage().getMessageId()).collect(Collectors.toSet());
    assertThat(ids).hasSize(1);
    assertThat(responses).allSatisfy(r -> assertThat(r.getMessage().getContent()).isEqualTo("once"));
    Poll.until(Duration.ofSeconds(10), "the one row in postgres", () -> count(t) == 1);
    // Nothing else is on its way: the stream held exactly one entry for the thread.
    assertThat(count(t)).isEqualTo(1);
  }

  static long count(String thread) {
    try {
      return Databases.count(TestGateway.settings(Map.of()), "SELECT count(*) FROM messages WHERE thread_id = ?", thread);
    } catch (java.sql.SQLException e) {
      throw new RuntimeException(e);
    }
  }

  @Test
  void durableSendAnswersAfterPostgresCommit() throws Exception {
    String t = thread();
    SendMessageResponse r = gw.as("alice").sendMessage(msg(t, "durable").toBuilder()
        .setDurability(Durability.DURABILITY_DURABLE).build());
    assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
    // Already committed when the answer arrived: no polling.
    assertThat(Databases.rowCounts(TestGateway.settings(Map.of()), List.of(r.getMessage().getMessageId())))
        .containsEntry(r.getMessage().getMessageId(), 1);
  }

  @Test
  void durableRetryOfACachedSendAnswersOnceTheFirstCopyIsCommitted() {
    String t = thread();
    SendMessageRequest cached = msg(t, "first as cache").toBuilder().setIdempotencyKey("k-dur").build();
    SendMessageResponse first = gw.as("alice").sendMessage(cached);
    SendMessageResponse durable = gw.as("alice").sendMessage(cached.toBuilder()
        .setDurability(Durability.DURABILITY_DURABLE).build());
    assertThat(durable.getDuplicate()).isTrue();
    assertThat(durable.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
    assertThat(durable.getMessage().getMessageId()).isEqualTo(first.getMessage().getMessageId());
  }

  @Test
  void durableSendsAreAnsweredWhicheverInstancePersistsThem() throws Exception {
    // A second gateway's persisters share the streams: some commits happen there and reach
    // this gateway's waiting callers through the persisted-ids channel.
    try (TestGateway other = TestGateway.start()) {
      String t = thread();
      List<ListenableFuture<SendMessageResponse>> calls = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        calls.add(gw.asyncAs("alice").withDeadlineAfter(20, TimeUnit.SECONDS)
            .sendMessage(msg(t, "durable " + i).toBuilder().setDurability(Durability.DURABILITY_DURABLE).build()));
      }
      for (var f : calls) {
        assertThat(f.get(20, TimeUnit.SECONDS).getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
      }
      assertThat(count(t)).isEqualTo(60);
    }
  }

  @Test
  void batchStoresAllMessagesInOrder() {
    String t = thread();
    SendMessageBatchRequest.Builder b = SendMessageBatchRequest.newBuilder().setThreadId(t);
    for (int i = 0; i < 100; i++) {
      b.addMessages(SendMessageRequest.newBuilder().setRole(Role.ROLE_ASSISTANT).setContent("b" + i));
    }
    var results = gw.as("alice").sendMessageBatch(b.build()).getResultsList();
    assertThat(results).hasSize(100);
    assertThat(results).extracting(r -> r.getMessage().getMessageId()).isSorted().doesNotHaveDuplicates();
    assertThat(results).extracting(r -> r.getMessage().getContent()).startsWith("b0", "b1", "b2");
    Poll.until(Duration.ofSeconds(10), "batch in postgres", () -> count(t) == 100);
  }

  @Test
  void batchWithOneBadMessageStoresNothing() {
    String t = thread();
    SendMessageBatchRequest req = SendMessageBatchRequest.newBuilder().setThreadId(t)
        .addMessages(SendMessageRequest.newBuilder().setRole(Role.ROLE_USER).setContent("fine"))
        .addMessages(SendMessageRequest.newBuilder().setRole(Role.ROLE_USER).setContent(""))
        .build();
    assertThatThrownBy(() -> gw.as("alice").sendMessageBatch(req))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("messages[1].content");
        });
    assertThat(count(t)).isZero();
  }

  @Test
  void invalidRequestsNameTheField() {
    String t = thread();
    record Case(SendMessageRequest req, String field) {}
    List<Case> cases = List.of(
        new Case(msg("", "x"), "thread_id"),
        new Case(msg("bad thread!", "x"), "thread_id"),
        new Case(msg("x".repeat(129), "x"), "thread_id"),
        new Case(msg(t, "x").toBuilder().setRole(Role.ROLE_UNSPECIFIED).build(), "role"),
        new Case(msg(t, ""), "content"),
        new Case(msg(t, "nul\0byte"), "content"),
        new Case(msg(t, "x".repeat(1024 * 1024 + 1)), "content"),
        new Case(msg(t, "x").toBuilder().putAllMetadata(manyEntries(65)).build(), "metadata"));
    for (Case c : cases) {
      assertThatThrownBy(() -> gw.as("alice").sendMessage(c.req()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains(c.field());
          });
    }
  }

  static Map<String, String> manyEntries(int n) {
    Map<String, String> m = new java.util.HashMap<>();
    for (int i = 0; i < n; i++) {
      m.put("k" + i, "v");
    }
    return m;
  }

  @Test
  void anotherUserCannotWriteOrReadAThread() {
    String t = thread();
    String id = gw.as("alice").sendMessage(msg(t, "mine")).getMessage().getMessageId();
    assertThatThrownBy(() -> gw.as("bob").sendMessage(msg(t, "intruder")))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThatThrownBy(() -> gw.as("bob").getMessage(GetMessageRequest.newBuilder().setThreadId(t).setMessageId(id).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThat(gw.as("alice").getMessage(GetMessageRequest.newBuilder().setThreadId(t).setMessageId(id).build())
        .getMessage().getContent()).isEqualTo("mine");
  }

  @Test
  void ownershipSurvivesLossOfRedisKeys() throws Exception {
    String t = thread();
    gw.as("alice").sendMessage(msg(t, "first"));
    // Redis forgets the owner (flush, restart without data): PostgreSQL still knows.
    try (var client = io.lettuce.core.RedisClient.create(io.messagestore.server.testing.LocalTiers.shared().get("MESSAGESTORE_REDIS_URI"));
        var c = client.connect()) {
      var keys = new io.messagestore.server.redis.RedisKeys(io.messagestore.server.config.PersistenceSettings.STREAM_SHARDS.defaultValue());
      c.sync().del(keys.owner(t));
    }
    assertThatThrownBy(() -> gw.as("bob").sendMessage(msg(t, "claim")))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThat(gw.as("alice").sendMessage(msg(t, "still mine")).getAcknowledgedBy()).isEqualTo(Tier.TIER_REDIS);
  }

  /**
   * A call whose event loop has no Redis connection yet goes around Redis at once. A gateway
   * that served before every loop's connection was open sent its first sends to PostgreSQL,
   * where a crashed instance's retries could not see their first attempts still waiting in
   * Redis. Each new client connection lands on the next event loop, so eight of them cover
   * all four loops twice.
   */
  @Test
  void aFreshGatewaysFirstSendsGoThroughRedisOnEveryEventLoop() throws Exception {
    try (TestGateway fresh = TestGateway.start(Map.of("MESSAGESTORE_IO_THREADS", "4"))) {
      List<ManagedChannel> channels = new ArrayList<>();
      try {
        List<SendMessageResponse> first = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", fresh.gateway().port()).usePlaintext().build();
          channels.add(ch);
          first.add(MessageStoreGrpc.newBlockingStub(ch).withCallCredentials(Tokens.bearer(Tokens.user("alice")))
              .withDeadlineAfter(30, TimeUnit.SECONDS).sendMessage(msg(thread(), "first on connection " + i)));
        }

        assertThat(first).allSatisfy(r -> {
          assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_REDIS);
          assertThat(r.getFailoverReason()).isEmpty();
        });
      } finally {
        channels.forEach(ManagedChannel::shutdownNow);
      }
    }
  }
}
