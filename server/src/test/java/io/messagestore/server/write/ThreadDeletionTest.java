package io.messagestore.server.write;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.messagestore.api.v1.DeleteThreadRequest;
import io.messagestore.api.v1.GetMessageRequest;
import io.messagestore.api.v1.GetTierStatusRequest;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.ListThreadsRequest;
import io.messagestore.api.v1.MessageStoreGrpc.MessageStoreBlockingStub;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.config.ClickHouseSettings;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.TestGateway;
import java.net.URI;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** DeleteThread end to end, with the persisters and the archiver running, on private tiers. */
class ThreadDeletionTest {
  private static PrivateTiers tiers;
  private static Map<String, String> settings;
  private static TestGateway gateway;
  private static ClickHouseTier clickhouse;
  private static RedisClient redisClient;
  private static StatefulRedisConnection<String, String> redis;

  @BeforeAll
  static void start() throws Exception {
    tiers = PrivateTiers.start();
    settings = tiers.settings(Map.of(
        "MESSAGESTORE_CLICKHOUSE_DATABASE", "ms_delete_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10),
        "MESSAGESTORE_HOT_RETENTION", "PT1S",
        "MESSAGESTORE_ARCHIVE_INTERVAL", "200ms",
        "MESSAGESTORE_ARCHIVE_BATCH", "20"));
    gateway = TestGateway.startWith(settings);
    clickhouse = new ClickHouseTier(new ClickHouseSettings(URI.create(settings.get("MESSAGESTORE_CLICKHOUSE_URL")),
        settings.get("MESSAGESTORE_CLICKHOUSE_DATABASE"), Duration.ofSeconds(10)));
    redisClient = RedisClient.create(settings.get("MESSAGESTORE_REDIS_URI"));
    redis = redisClient.connect();
  }

  @AfterAll
  static void stop() throws Exception {
    redis.close();
    redisClient.shutdown();
    gateway.close();
    tiers.close();
    clickhouse.execute("DROP DATABASE IF EXISTS " + clickhouse.database());
    clickhouse.close();
  }

  private static SendMessageResponse send(MessageStoreBlockingStub stub, String thread, String content, String key) {
    SendMessageRequest.Builder r = SendMessageRequest.newBuilder().setThreadId(thread).setRole(Role.ROLE_USER)
        .setContent(content);
    if (key != null) {
      r.setIdempotencyKey(key);
    }
    return stub.sendMessage(r.build());
  }

  private static long delete(MessageStoreBlockingStub stub, String thread) {
    return stub.deleteThread(DeleteThreadRequest.newBuilder().setThreadId(thread).build()).getDeletedMessages();
  }

  private static long count(String sql, Object... params) {
    try {
      return Databases.count(settings, sql, params);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long inClickHouse(String table, String thread, String through) {
    try {
      return Long.parseLong(clickhouse.execute("SELECT count() FROM " + clickhouse.database() + "." + table
          + " WHERE thread_id = '" + thread + "' AND toString(message_id) <= '" + through + "' FORMAT TabSeparated")
          .strip());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Redis keys, stream entries and dead letters of the given messages still there. */
  private static List<String> inRedis(String thread, List<String> ids) {
    RedisKeys keys = new RedisKeys(gateway.config().streamShards());
    RedisCommands<String, String> cmd = redis.sync();
    List<String> left = new ArrayList<>();
    for (String id : ids) {
      if (cmd.exists(keys.message(thread, id)) > 0) {
        left.add("copy of " + id);
      }
    }
    for (var entry : cmd.xrange(keys.of(thread).stream(), io.lettuce.core.Range.create("-", "+"))) {
      String body = entry.getBody().getOrDefault("m", "");
      ids.stream().filter(body::contains).forEach(id -> left.add("stream entry of " + id));
    }
    return left;
  }

  @Test
  void deletionRacingSendsThePersistersAndTheArchiverLeavesNothingOfTheThreadInAnyTier() throws Exception {
    MessageStoreBlockingStub alice = gateway.as("alice");
    String thread = "doomed-" + UUID.randomUUID();
    List<String> before = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      before.add(send(alice, thread, "early " + i, "key-" + i).getMessage().getMessageId());
    }
    Poll.until(Duration.ofSeconds(30), "some of the thread to be archived",
        () -> count("SELECT archived_messages FROM threads WHERE thread_id = ?", thread) > 0);
    // A burst of sends keeps going while the thread is deleted.
    List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean sending = new AtomicBoolean(true);
    CompletableFuture<Void> burst = CompletableFuture.runAsync(() -> {
      for (int i = 0; sending.get(); i++) {
        try {
          acknowledged.add(send(alice, thread, "burst " + i, null).getMessage().getMessageId());
        } catch (StatusRuntimeException e) {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).contains("being deleted");
        }
      }
    });
    Poll.until(Duration.ofSeconds(10), "the burst to be under way", () -> acknowledged.size() > 20);
    List<String> acknowledgedBeforeTheCall = List.copyOf(acknowledged);

    assertThatThrownBy(() -> delete(gateway.as("mallory"), thread)).isInstanceOfSatisfying(
        StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    long deleted = delete(alice, thread);
    sending.set(false);
    burst.get();

    String through = Databases.value(settings, "SELECT erased_through::text FROM thread_erasures WHERE thread_id = ?",
        thread);
    List<String> erased = new ArrayList<>(before);
    erased.addAll(acknowledgedBeforeTheCall);
    assertThat(erased).allSatisfy(id -> assertThat(id).isLessThanOrEqualTo(through));
    assertThat(deleted).isGreaterThanOrEqualTo(erased.size());
    // Whatever the persisters and the archiver still held must not bring anything back.
    Poll.until(Duration.ofSeconds(60), "ClickHouse's erasure to finish", () -> inClickHouse("messages_archive", thread,
        through) + inClickHouse("message_facts", thread, through) == 0
        && gateway.admin().getTierStatus(GetTierStatusRequest.getDefaultInstance()).getPendingErasuresCount() == 0);
    assertThat(count("SELECT count(*) FROM messages WHERE thread_id = ? AND message_id <= ?::uuid", thread, through))
        .isZero();
    // Facts of erased messages may still wait in the outbox's batches; the feed never takes them.
    try (java.sql.Connection c = Databases.connect(settings)) {
      assertThat(new io.messagestore.server.postgres.AnalyticsOutbox().take(c, 1_000_000).rows())
          .noneMatch(r -> r.threadId().equals(thread) && r.messageId().compareTo(through) <= 0);
    }
    assertThat(inRedis(thread, erased)).isEmpty();
    assertThat(count("SELECT count(*) FROM thread_deletion_audit WHERE thread_id = ? AND deleted_by = 'alice'",
        thread)).isEqualTo(1);
    for (String id : List.of(before.get(0), before.get(39), acknowledgedBeforeTheCall.get(0))) {
      assertThatThrownBy(() -> alice.getMessage(GetMessageRequest.newBuilder().setThreadId(thread).setMessageId(id)
          .build())).isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }
  }

  @Test
  void aDeletedThreadIsGoneFromEveryReadAndItsIdMayBeClaimedAgain() throws Exception {
    MessageStoreBlockingStub alice = gateway.as("alice");
    String thread = "gone-" + UUID.randomUUID();
    String first = send(alice, thread, "one", "once").getMessage().getMessageId();
    send(alice, thread, "two", null);

    assertThat(delete(alice, thread)).isEqualTo(2);

    assertThat(alice.listMessages(ListMessagesRequest.newBuilder().setThreadId(thread).build()).getMessagesCount())
        .isZero();
    assertThat(alice.listThreads(ListThreadsRequest.newBuilder().setPageSize(1000).build()).getThreadsList())
        .noneMatch(t -> t.getThreadId().equals(thread));
    // A retry of an erased send is answered as a duplicate and stores nothing again.
    SendMessageResponse retry = send(alice, thread, "one", "once");
    assertThat(retry.getDuplicate()).isTrue();
    assertThat(retry.getMessage().getMessageId()).isEqualTo(first);
    assertThat(alice.listMessages(ListMessagesRequest.newBuilder().setThreadId(thread).build()).getMessagesCount())
        .isZero();
    assertThatThrownBy(() -> delete(alice, "never-" + UUID.randomUUID())).isInstanceOfSatisfying(
        StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));

  }

  @Test
  void aDeletedThreadsIdMayBeClaimedByAnotherUser() {
    String thread = "reused-" + UUID.randomUUID();
    send(gateway.as("alice"), thread, "alice's", null);
    delete(gateway.as("alice"), thread);

    send(gateway.as("bob"), thread, "bob's", null);

    assertThat(gateway.as("bob").listMessages(ListMessagesRequest.newBuilder().setThreadId(thread).build())
        .getMessagesList()).extracting(m -> m.getContent()).containsExactly("bob's");
    assertThatThrownBy(() -> send(gateway.as("alice"), thread, "again", null)).isInstanceOfSatisfying(
        StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
  }

  @Test
  void anAdminMayDeleteAnotherUsersThread() {
    String thread = "admin-" + UUID.randomUUID();
    send(gateway.as("carol"), thread, "mine", null);

    assertThat(gateway.asAdmin("ops").deleteThread(DeleteThreadRequest.newBuilder().setThreadId(thread).build())
        .getDeletedMessages()).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM thread_deletion_audit WHERE thread_id = ? AND owner_id = 'carol'"
        + " AND deleted_by = 'ops'", thread)).isEqualTo(1);
  }
}
