package io.messagestore.server.write;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.lettuce.core.RedisClient;
import io.messagestore.api.v1.DeadLetter;
import io.messagestore.api.v1.GetTierStatusRequest;
import io.messagestore.api.v1.ListDeadLettersRequest;
import io.messagestore.api.v1.ReplayDeadLettersRequest;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageBatchRequest;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.PrivateTiersExtension;
import io.messagestore.server.testing.TestGateway;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Tier outages on the write path, caused for real on private Redis and PostgreSQL instances. */
class WriteOutageTest {
  @RegisterExtension
  static final PrivateTiersExtension privateTiers = new PrivateTiersExtension();
  PrivateTiers tiers;
  TestGateway gw;

  @BeforeEach
  void startGateway() throws Exception {
    tiers = privateTiers.get();
    gw = TestGateway.startWith(tiers.settings(Map.of(
        "MESSAGESTORE_PENDING_CLAIM_TIMEOUT", "300ms",
        "MESSAGESTORE_MAX_DELIVERIES", "2",
        "MESSAGESTORE_DURABLE_TIMEOUT", "3s")));
  }

  @AfterEach
  void stopGateway() {
    gw.close();
  }

  static SendMessageRequest msg(String thread, String content) {
    return SendMessageRequest.newBuilder().setThreadId(thread).setRole(Role.ROLE_USER).setContent(content).build();
  }

  Map<String, String> settings() {
    return tiers.settings(Map.of());
  }

  void assertExactlyOnceInPostgres(List<String> ids) throws Exception {
    Databases.assertEachStoredOnce(settings(), ids);
  }

  @Test
  void sendsContinueFromRedisWhilePostgresIsDownAndTheBacklogDrainsAfter() throws Exception {
    String t = "pgdown-" + UUID.randomUUID();
    List<String> acked = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      acked.add(gw.as("alice").sendMessage(msg(t, "before " + i)).getMessage().getMessageId());
    }
    tiers.stopPostgres();
    for (int i = 0; i < 200; i++) {
      SendMessageResponse r = gw.as("alice").sendMessage(msg(t, "during " + i));
      assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_REDIS);
      acked.add(r.getMessage().getMessageId());
    }
    Poll.until(Duration.ofSeconds(10), "backlog to show in tier status",
        () -> gw.admin().getTierStatus(GetTierStatusRequest.getDefaultInstance()).getStreamBacklog() > 0);
    tiers.startPostgres();
    assertExactlyOnceInPostgres(acked);
    Poll.until(Duration.ofSeconds(30), "backlog back to zero",
        () -> gw.admin().getTierStatus(GetTierStatusRequest.getDefaultInstance()).getStreamBacklog() == 0);
    assertThat(Databases.count(settings(), "SELECT message_count FROM threads WHERE thread_id = ?", t)).isEqualTo(220);
  }

  @Test
  void redisOutageFailsOverToPostgresAndWritesReturnToRedisAfter() throws Exception {
    String t = "redisdown-" + UUID.randomUUID();
    List<String> acked = new ArrayList<>();
    acked.add(gw.as("alice").sendMessage(msg(t, "first")).getMessage().getMessageId());
    tiers.stopRedis();
    for (int i = 0; i < 30; i++) {
      SendMessageResponse r = gw.as("alice").sendMessage(msg(t, "failover " + i));
      assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
      assertThat(r.getFailoverReason()).isEqualTo("redis_unavailable");
      acked.add(r.getMessage().getMessageId());
    }
    // Failover writes are synchronous: already in PostgreSQL.
    assertThat(Databases.rowCounts(settings(), acked.subList(1, acked.size()))).hasSize(30);
    // Ownership is enforced in failover too.
    assertThatThrownBy(() -> gw.as("bob").sendMessage(msg(t, "intruder")))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));

    tiers.startRedis();
    Poll.until(Duration.ofSeconds(20), "writes to go back to redis", () -> {
      SendMessageResponse r = gw.as("alice").sendMessage(msg(t, "after"));
      acked.add(r.getMessage().getMessageId());
      return r.getAcknowledgedBy() == Tier.TIER_REDIS && r.getFailoverReason().isEmpty();
    });
    assertExactlyOnceInPostgres(acked);
  }

  @Test
  void postgresGoingAwayWhilePoisonIsIsolatedCountsAgainstNoOtherEntry() throws Exception {
    // One delivery only: an entry whose insert fails for a lost connection would be
    // dead-lettered at once, were that failure counted against it.
    gw.close();
    gw = TestGateway.startWith(tiers.settings(Map.of("MESSAGESTORE_MAX_DELIVERIES", "1")));
    String t = "poison-then-gone-" + UUID.randomUUID();
    gw.as("alice").sendMessage(msg(t, "owner"));
    try (Connection c = Databases.connect(settings()); Statement s = c.createStatement()) {
      // 'victim' takes its own connection down the first time it is inserted (a sequence is not
      // rolled back with the transaction, so only once).
      s.execute("CREATE SEQUENCE IF NOT EXISTS victim_inserts");
      s.execute("CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
          + "IF NEW.content = 'poison' THEN RAISE EXCEPTION 'poison refused by test trigger'; END IF; "
          + "IF NEW.content = 'victim' AND nextval('victim_inserts') = 1 THEN "
          + "PERFORM pg_terminate_backend(pg_backend_pid()); END IF; RETURN NEW; END $$ LANGUAGE plpgsql");
      s.execute("CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_poison()");
    }
    try {
      // One script, so one read: the three are one batch, which the poison makes go one by one.
      List<SendMessageResponse> sent = gw.as("alice").sendMessageBatch(SendMessageBatchRequest.newBuilder()
          .setThreadId(t).addMessages(msg(t, "poison")).addMessages(msg(t, "victim")).addMessages(msg(t, "good"))
          .build()).getResultsList();
      String poisonId = sent.get(0).getMessage().getMessageId();

      assertExactlyOnceInPostgres(List.of(sent.get(1).getMessage().getMessageId(), sent.get(2).getMessage().getMessageId()));
      Poll.until(Duration.ofSeconds(30), "the poison entry in the dead-letter stream",
          () -> gw.admin().listDeadLetters(ListDeadLettersRequest.getDefaultInstance()).getDeadLettersList().stream()
              .anyMatch(d -> d.getMessageId().equals(poisonId)));
      assertThat(gw.admin().listDeadLetters(ListDeadLettersRequest.getDefaultInstance()).getDeadLettersList())
          .extracting(DeadLetter::getMessageId).contains(poisonId)
          .doesNotContain(sent.get(1).getMessage().getMessageId(), sent.get(2).getMessage().getMessageId());
    } finally {
      try (Connection c = Databases.connect(settings()); Statement s = c.createStatement()) {
        s.execute("DROP TRIGGER IF EXISTS refuse_poison ON messages");
      }
    }
  }

  @Test
  void persistenceResumesAfterRedisLosesItsStreams() throws Exception {
    String t = "streams-lost-" + UUID.randomUUID();
    List<String> acked = new ArrayList<>();
    acked.add(gw.as("alice").sendMessage(msg(t, "before")).getMessage().getMessageId());
    assertExactlyOnceInPostgres(acked);

    // What a Redis restarted without its data, or flushed, leaves: no streams, no consumer group.
    RedisClient client = RedisClient.create("redis://127.0.0.1:" + tiers.redisPort);
    try (var c = client.connect()) {
      c.sync().flushall();
    } finally {
      client.shutdown();
    }
    for (int i = 0; i < 20; i++) {
      SendMessageResponse r = gw.as("alice").sendMessage(msg(t, "after " + i));
      assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_REDIS);
      acked.add(r.getMessage().getMessageId());
    }
    assertExactlyOnceInPostgres(acked);
  }

  @Test
  void idempotencyHoldsDuringRedisFailover() throws Exception {
    String t = "idem-failover-" + UUID.randomUUID();
    gw.as("alice").sendMessage(msg(t, "owner"));
    tiers.stopRedis();
    SendMessageRequest req = msg(t, "once").toBuilder().setIdempotencyKey("k").build();
    SendMessageResponse first = gw.as("alice").sendMessage(req);
    SendMessageResponse second = gw.as("alice").sendMessage(req);
    assertThat(first.getDuplicate()).isFalse();
    assertThat(second.getDuplicate()).isTrue();
    assertThat(second.getMessage().getMessageId()).isEqualTo(first.getMessage().getMessageId());
  }

  @Test
  void idempotencyKeyAcknowledgedByRedisIsHonouredDuringFailover() throws Exception {
    String t = "idem-redis-then-pg-" + UUID.randomUUID();
    SendMessageRequest req = msg(t, "once").toBuilder().setIdempotencyKey("k").build();
    SendMessageResponse first = gw.as("alice").sendMessage(req);
    assertThat(first.getAcknowledgedBy()).isEqualTo(Tier.TIER_REDIS);
    assertExactlyOnceInPostgres(List.of(first.getMessage().getMessageId()));
    tiers.stopRedis();
    SendMessageResponse retry = gw.as("alice").sendMessage(req);
    assertThat(retry.getFailoverReason()).isEqualTo("redis_unavailable");
    assertThat(retry.getDuplicate()).isTrue();
    assertThat(retry.getMessage().getMessageId()).isEqualTo(first.getMessage().getMessageId());
    assertThat(Databases.count(settings(), "SELECT count(*) FROM messages WHERE thread_id = ?", t)).isEqualTo(1);
  }

  @Test
  void messageAcknowledgedByRedisIsPersistedEvenWhenPostgresHoldsItsKeyForAnotherMessage() throws Exception {
    String t = "idem-taken-" + UUID.randomUUID();
    gw.as("alice").sendMessage(msg(t, "owner"));
    // What a failover write leaves before Redis hears of it (or the key's use more than
    // IDEMPOTENCY_TTL ago): another message of the thread holding the key in PostgreSQL.
    String holder = new MessageIdGenerator(java.time.Clock.systemUTC()).next().toString();
    try (Connection c = Databases.connect(settings());
        var ps = c.prepareStatement("INSERT INTO messages (message_id, thread_id, user_id, role, content, "
            + "idempotency_key, created_at) VALUES (?::uuid, ?, 'alice', 1, 'earlier', 'k', now())")) {
      ps.setString(1, holder);
      ps.setString(2, t);
      ps.executeUpdate();
    }
    SendMessageResponse acked = gw.as("alice").sendMessage(msg(t, "acknowledged").toBuilder()
        .setIdempotencyKey("k").build());
    assertThat(acked.getAcknowledgedBy()).isEqualTo(Tier.TIER_REDIS);
    assertThat(acked.getDuplicate()).isFalse();
    assertExactlyOnceInPostgres(List.of(acked.getMessage().getMessageId()));
    assertThat(Databases.count(settings(), "SELECT count(*) FROM messages WHERE message_id = ?::uuid "
        + "AND idempotency_key IS NULL", acked.getMessage().getMessageId())).isEqualTo(1);
  }

  /** A message of the thread that used {@code key} {@code hoursAgo} hours ago; returns its id. */
  String earlierUseOfKey(String thread, String key, int hoursAgo) throws Exception {
    String holder = UUID.randomUUID().toString();
    try (Connection c = Databases.connect(settings());
        var ps = c.prepareStatement("INSERT INTO messages (message_id, thread_id, user_id, role, content, "
            + "idempotency_key, created_at) VALUES (?::uuid, ?, 'alice', 1, 'long ago', ?, now() - ? * interval '1 hour')")) {
      ps.setString(1, holder);
      ps.setString(2, thread);
      ps.setString(3, key);
      ps.setInt(4, hoursAgo);
      ps.executeUpdate();
    }
    return holder;
  }

  String holderOfKey(String thread, String key) throws Exception {
    try (Connection c = Databases.connect(settings());
        var ps = c.prepareStatement("SELECT message_id::text FROM messages WHERE thread_id = ? AND idempotency_key = ?")) {
      ps.setString(1, thread);
      ps.setString(2, key);
      try (var rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  @Test
  void keyReusedAfterItsTimeToLiveMovesToTheNewMessageInPostgres() throws Exception {
    String t = "idem-expired-redis-" + UUID.randomUUID();
    gw.as("alice").sendMessage(msg(t, "owner"));
    earlierUseOfKey(t, "k", 25);

    SendMessageResponse reuse = gw.as("alice").sendMessage(msg(t, "a day later").toBuilder().setIdempotencyKey("k").build());
    assertThat(reuse.getAcknowledgedBy()).isEqualTo(Tier.TIER_REDIS);
    assertThat(reuse.getDuplicate()).isFalse();
    assertExactlyOnceInPostgres(List.of(reuse.getMessage().getMessageId()));

    // Redis forgets the new use after the time to live, so a retry in a Redis outage meets the
    // key in PostgreSQL, where it must name the new message, not the old one.
    assertThat(holderOfKey(t, "k")).isEqualTo(reuse.getMessage().getMessageId());
    tiers.stopRedis();
    SendMessageResponse retry = gw.as("alice").sendMessage(msg(t, "a day later").toBuilder().setIdempotencyKey("k").build());
    assertThat(retry.getFailoverReason()).isEqualTo("redis_unavailable");
    assertThat(retry.getDuplicate()).isTrue();
    assertThat(retry.getMessage().getMessageId()).isEqualTo(reuse.getMessage().getMessageId());
  }

  @Test
  void keyReusedAfterItsTimeToLiveDuringARedisOutageStoresANewMessage() throws Exception {
    String t = "idem-expired-failover-" + UUID.randomUUID();
    gw.as("alice").sendMessage(msg(t, "owner"));
    String old = earlierUseOfKey(t, "k", 25);
    tiers.stopRedis();

    SendMessageRequest reuse = msg(t, "a day later").toBuilder().setIdempotencyKey("k").build();
    SendMessageResponse first = gw.as("alice").sendMessage(reuse);
    SendMessageResponse retry = gw.as("alice").sendMessage(reuse);

    assertThat(first.getFailoverReason()).isEqualTo("redis_unavailable");
    assertThat(first.getDuplicate()).isFalse();
    assertThat(first.getMessage().getMessageId()).isNotEqualTo(old);
    assertThat(first.getMessage().getContent()).isEqualTo("a day later");
    assertThat(retry.getDuplicate()).isTrue();
    assertThat(retry.getMessage().getMessageId()).isEqualTo(first.getMessage().getMessageId());
    assertThat(Databases.count(settings(), "SELECT count(*) FROM messages WHERE thread_id = ? AND content = 'a day later'",
        t)).isEqualTo(1);
    assertThat(holderOfKey(t, "k")).isEqualTo(first.getMessage().getMessageId());
  }

  @Test
  void bothTiersDownIsUnavailableAndNothingIsStored() throws Exception {
    String t = "bothdown-" + UUID.randomUUID();
    gw.as("alice").sendMessage(msg(t, "owner"));
    tiers.stopRedis();
    tiers.stopPostgres();
    assertThatThrownBy(() -> gw.as("alice").sendMessage(msg(t, "lost?")))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).contains("nothing was stored").contains("redis").contains("postgres");
        });
    tiers.startPostgres();
    tiers.startRedis();
    Poll.until(Duration.ofSeconds(30), "the owner message persisted",
        () -> {
          try {
            return Databases.count(settings(), "SELECT count(*) FROM messages WHERE thread_id = ?", t) == 1;
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        });
    assertThat(Databases.count(settings(), "SELECT count(*) FROM messages WHERE content = 'lost?' AND thread_id = ?", t))
        .isZero();
  }

  @Test
  void durableSendWhilePostgresIsDownIsUnavailableButLandsLater() throws Exception {
    String t = "durable-pgdown-" + UUID.randomUUID();
    gw.as("alice").sendMessage(msg(t, "owner"));
    tiers.stopPostgres();
    assertThatThrownBy(() -> gw.as("alice").sendMessage(msg(t, "durable").toBuilder()
            .setDurability(io.messagestore.api.v1.Durability.DURABILITY_DURABLE).setIdempotencyKey("d1").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).contains("not committed to PostgreSQL");
        });
    tiers.startPostgres();
    SendMessageResponse retry = gw.as("alice").sendMessage(msg(t, "durable").toBuilder()
        .setDurability(io.messagestore.api.v1.Durability.DURABILITY_DURABLE).setIdempotencyKey("d1").build());
    assertThat(retry.getDuplicate()).isTrue();
    assertThat(retry.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
    assertThat(Databases.rowCounts(settings(), List.of(retry.getMessage().getMessageId())))
        .containsEntry(retry.getMessage().getMessageId(), 1);
  }

  @Test
  void fullBacklogIsResourceExhausted() throws Exception {
    gw.close();
    gw = TestGateway.startWith(tiers.settings(Map.of("MESSAGESTORE_MAX_BACKLOG", "40")));
    String t = "backlog-" + UUID.randomUUID();
    gw.as("alice").sendMessage(msg(t, "owner"));
    tiers.stopPostgres();
    // 40 across 4 shards: this thread's shard takes 10.
    StatusRuntimeException refused = null;
    int accepted = 0;
    for (int i = 0; i < 20 && refused == null; i++) {
      try {
        gw.as("alice").sendMessage(msg(t, "m" + i));
        accepted++;
      } catch (StatusRuntimeException e) {
        refused = e;
      }
    }
    assertThat(refused).isNotNull();
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(refused.getStatus().getDescription()).contains("backlog is full");
    assertThat(accepted).isLessThanOrEqualTo(10);
    tiers.startPostgres();
    Poll.until(Duration.ofSeconds(30), "backlog to drain and sends to be accepted again", () -> {
      gw.as("alice").sendMessage(msg(t, "after"));
      return true;
    });
  }

  @Test
  void poisonEntryIsDeadLetteredAndCanBeReplayed() throws Exception {
    String t = "poison-" + UUID.randomUUID();
    gw.as("alice").sendMessage(msg(t, "owner"));
    try (Connection c = Databases.connect(settings()); Statement s = c.createStatement()) {
      s.execute("CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
          + "IF NEW.content = 'poison' THEN RAISE EXCEPTION 'poison refused by test trigger'; END IF; RETURN NEW; END $$ "
          + "LANGUAGE plpgsql");
      s.execute("CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_poison()");
    }
    try {
      String poisonId = gw.as("alice").sendMessage(msg(t, "poison").toBuilder().setIdempotencyKey("poison-key")
          .build()).getMessage().getMessageId();
      String goodId = gw.as("alice").sendMessage(msg(t, "good")).getMessage().getMessageId();
      // The good message next to it is not held back by the poison one.
      assertExactlyOnceInPostgres(List.of(goodId));
      Poll.until(Duration.ofSeconds(30), "the poison entry in the dead-letter stream",
          () -> gw.admin().listDeadLetters(ListDeadLettersRequest.getDefaultInstance()).getDeadLettersList().stream()
              .anyMatch(d -> d.getMessageId().equals(poisonId)));
      DeadLetter dead = gw.admin().listDeadLetters(ListDeadLettersRequest.getDefaultInstance()).getDeadLettersList()
          .stream().filter(d -> d.getMessageId().equals(poisonId)).findFirst().orElseThrow();
      assertThat(dead.getLastError()).contains("poison refused by test trigger");
      assertThat(dead.getDeliveryCount()).isGreaterThanOrEqualTo(2);
      assertThat(dead.getThreadId()).isEqualTo(t);

      try (Connection c = Databases.connect(settings()); Statement s = c.createStatement()) {
        s.execute("DROP TRIGGER refuse_poison ON messages");
      }
      long replayed = gw.admin().replayDeadLetters(ReplayDeadLettersRequest.newBuilder()
          .addEntryIds(dead.getEntryId()).build()).getReplayed();
      assertThat(replayed).isEqualTo(1);
      assertExactlyOnceInPostgres(List.of(poisonId));
      // The replayed entry kept its idempotency key.
      assertThat(Databases.count(settings(), "SELECT count(*) FROM messages WHERE message_id = ?::uuid"
          + " AND idempotency_key = 'poison-key'", poisonId)).isEqualTo(1);
      assertThat(gw.admin().listDeadLetters(ListDeadLettersRequest.getDefaultInstance()).getDeadLettersList())
          .noneMatch(d -> d.getMessageId().equals(poisonId));
    } finally {
      try (Connection c = Databases.connect(settings()); Statement s = c.createStatement()) {
        s.execute("DROP TRIGGER IF EXISTS refuse_poison ON messages");
      }
    }
  }
}
