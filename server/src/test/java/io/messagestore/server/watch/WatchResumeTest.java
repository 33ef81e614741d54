package io.messagestore.server.watch;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.config.ClickHouseSettings;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.net.URI;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Resuming a watch after an id whose message is no longer in Redis: in PostgreSQL, or archived. */
class WatchResumeTest {
  private static PrivateTiers tiers;
  private static Map<String, String> settings;

  @BeforeAll
  static void start() throws Exception {
    tiers = PrivateTiers.start();
    settings = tiers.settings(Map.of(
        "MESSAGESTORE_CLICKHOUSE_DATABASE", "ms_watch_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10)));
  }

  @AfterAll
  static void stop() throws Exception {
    tiers.close();
    try (ClickHouseTier clickhouse = new ClickHouseTier(new ClickHouseSettings(
        URI.create(settings.get("MESSAGESTORE_CLICKHOUSE_URL")), settings.get("MESSAGESTORE_CLICKHOUSE_DATABASE"),
        Duration.ofSeconds(10)))) {
      clickhouse.execute("DROP DATABASE IF EXISTS " + clickhouse.database());
    }
  }

  private static List<String> sendAll(TestGateway g, String thread, int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(g.as("alice").sendMessage(SendMessageRequest.newBuilder().setThreadId(thread).setRole(Role.ROLE_USER)
          .setContent("message " + i).build()).getMessage().getMessageId());
    }
    return ids;
  }

  private static long postgresRows(String thread) {
    try {
      return Databases.count(settings, "SELECT count(*) FROM messages WHERE thread_id = ?", thread);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static MessageStoreGrpc.MessageStoreStub stub(TestGateway g) {
    return MessageStoreGrpc.newStub(g.channel()).withCallCredentials(Tokens.bearer(Tokens.user("alice")));
  }

  @Test
  void aResumeAfterAnIdRedisNoLongerHasIsReplayedFromPostgresInOrderThenGoesLive() throws Exception {
    try (TestGateway gateway = TestGateway.startWith(settings)) {
      String thread = "flushed-" + UUID.randomUUID();
      List<String> sent = sendAll(gateway, thread, 30);
      Poll.until(Duration.ofSeconds(30), "all 30 in PostgreSQL", () -> postgresRows(thread) == 30);
      RedisClient client = RedisClient.create("redis://127.0.0.1:" + tiers.redisPort);
      try (StatefulRedisConnection<String, String> redis = client.connect()) {
        redis.sync().flushall();
      } finally {
        client.shutdown();
      }
      gateway.gateway().nearCache().barrier().get(10, TimeUnit.SECONDS);

      Watcher w = Watcher.start(stub(gateway), thread, sent.get(9));
      w.awaitEvents(Duration.ofSeconds(30), "the 20 after the 10th", x -> x.confirmedIds().size() >= 20);
      assertThat(w.confirmedIds()).containsExactlyElementsOf(sent.subList(10, 30));

      String live = sendAll(gateway, thread, 1).get(0);
      w.awaitEvents(Duration.ofSeconds(30), "the new message", x -> x.confirmedIds().size() >= 21);
      assertThat(w.confirmedIds()).endsWith(live).doesNotHaveDuplicates();
      // The replayed messages are in PostgreSQL: each is reported persisted.
      w.awaitEvents(Duration.ofSeconds(30), "21 persisted", x -> x.of(ThreadEvent.Type.MESSAGE_PERSISTED).size() >= 21);
      w.cancel();
    }
  }

  @Test
  void aWatcherGetsWhatWasSentWhileRedisWasDownOnceRedisIsBack() throws Exception {
    try (TestGateway gateway = TestGateway.startWith(settings)) {
      String thread = "outage-" + UUID.randomUUID();
      List<String> sent = new ArrayList<>(sendAll(gateway, thread, 3));
      Watcher w = Watcher.start(stub(gateway), thread, sent.get(0));
      w.awaitEvents(Duration.ofSeconds(30), "the 2 after the first", x -> x.confirmedIds().size() >= 2);

      tiers.stopRedis();
      try {
        // Acknowledged by PostgreSQL (failover); no announcement can reach anyone now.
        sent.addAll(sendAll(gateway, thread, 5));
      } finally {
        tiers.startRedis();
      }
      sent.addAll(sendAll(gateway, thread, 2));

      w.awaitEvents(Duration.ofSeconds(60), "all 9 after the first", x -> x.confirmedIds().size() >= 9);
      assertThat(w.confirmedIds()).containsExactlyElementsOf(sent.subList(1, sent.size()));
      w.cancel();
    }
  }

  @Test
  void aWatcherGetsFailoverWritesOfAnInstanceThatCannotReachRedisWhileItsOwnRedisIsFine() throws Exception {
    Map<String, String> cutOff = new java.util.HashMap<>(settings);
    cutOff.put("MESSAGESTORE_REDIS_URI", "redis://127.0.0.1:" + io.messagestore.server.testing.FreePorts.next());
    try (TestGateway gateway = TestGateway.startWith(settings); TestGateway withoutRedis = TestGateway.startWith(cutOff)) {
      String thread = "around-" + UUID.randomUUID();
      String first = sendAll(gateway, thread, 1).get(0);
      Watcher w = Watcher.start(stub(gateway), thread, first);

      // Acknowledged by PostgreSQL: announced to nobody, but PostgreSQL's notification reaches
      // the watcher's instance.
      List<String> aroundRedis = sendAll(withoutRedis, thread, 5);

      w.awaitEvents(Duration.ofSeconds(30), "the 5 failover writes", x -> x.confirmedIds().size() >= 5);
      assertThat(w.confirmedIds()).containsExactlyElementsOf(aroundRedis);
      w.cancel();
    }
  }

  @Test
  void aResumeAfterAnArchivedIdIsReplayedFromClickHouseAndLiveWatchersHearOfTheArchiving() throws Exception {
    Map<String, String> archiving = new java.util.HashMap<>(settings);
    archiving.put("MESSAGESTORE_HOT_RETENTION", "PT2S");
    archiving.put("MESSAGESTORE_ARCHIVE_INTERVAL", "200ms");
    try (TestGateway gateway = TestGateway.startWith(archiving)) {
      String thread = "archived-" + UUID.randomUUID();
      String first = sendAll(gateway, thread, 1).get(0);
      Watcher live = Watcher.start(stub(gateway), thread, first);
      List<String> sent = new ArrayList<>(List.of(first));
      sent.addAll(sendAll(gateway, thread, 9));
      Poll.until(Duration.ofSeconds(60), "the thread to leave PostgreSQL for the archive", () -> postgresRows(thread) == 0);

      Watcher resumed = Watcher.start(stub(gateway), thread, sent.get(2));
      resumed.awaitEvents(Duration.ofSeconds(30), "the 7 after the 3rd", x -> x.confirmedIds().size() >= 7);
      assertThat(resumed.confirmedIds()).containsExactlyElementsOf(sent.subList(3, 10));
      assertThat(resumed.of(ThreadEvent.Type.MESSAGE_CONFIRMED)).allSatisfy(
          e -> assertThat(e.getMessage().getContent()).startsWith("message "));
      resumed.awaitEvents(Duration.ofSeconds(30), "their archived events",
          x -> x.of(ThreadEvent.Type.MESSAGE_ARCHIVED).size() >= 7);

      live.awaitEvents(Duration.ofSeconds(30), "9 archived events",
          x -> x.of(ThreadEvent.Type.MESSAGE_ARCHIVED).size() >= 9);
      assertThat(live.confirmedIds()).containsExactlyElementsOf(sent.subList(1, 10));
      // Once each; the message it resumed after may be reported too (the caller had seen it).
      assertThat(live.of(ThreadEvent.Type.MESSAGE_ARCHIVED).stream().map(ThreadEvent::getMessageId).toList())
          .doesNotHaveDuplicates().containsAll(sent.subList(1, 10)).isSubsetOf(sent);
      assertThat(live.of(ThreadEvent.Type.MESSAGE_PERSISTED).stream().map(ThreadEvent::getMessageId).toList())
          .doesNotHaveDuplicates().containsAll(sent.subList(1, 10));
      live.cancel();
      resumed.cancel();
    }
  }
}
