package io.messagestore.server.write;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageBatchRequest;
import io.messagestore.api.v1.SendMessageBatchResponse;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.PrivateTiersExtension;
import io.messagestore.server.testing.TestGateway;
import io.micrometer.core.instrument.DistributionSummary;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Failover writes group-committed: concurrent sends while Redis is down share PostgreSQL commits,
 * and each of them is answered as if it had been stored alone (on private Redis and PostgreSQL).
 */
class FailoverGroupCommitTest {
  @RegisterExtension
  static final PrivateTiersExtension privateTiers = new PrivateTiersExtension();
  PrivateTiers tiers;
  TestGateway gw;
  final ExecutorService senders = Executors.newFixedThreadPool(50);

  @AfterEach
  void stop() throws Exception {
    senders.shutdownNow();
    senders.awaitTermination(30, TimeUnit.SECONDS);
    if (gw != null) {
      gw.close();
    }
  }

  /** A gateway whose failover groups linger {@code linger}: a long one puts concurrent sends in one group. */
  void startGateway(String linger) throws Exception {
    tiers = privateTiers.get();
    gw = TestGateway.startWith(tiers.settings(Map.of("MESSAGESTORE_FAILOVER_LINGER", linger)));
  }

  static SendMessageRequest msg(String thread, String content) {
    return SendMessageRequest.newBuilder().setThreadId(thread).setRole(Role.ROLE_USER).setContent(content).build();
  }

  Map<String, String> settings() {
    return tiers.settings(Map.of());
  }

  DistributionSummary groupRequests() {
    return gw.gateway().meters().get("messagestore.write.failover.group.requests").summary();
  }

  /** Runs the calls at once, each on a sender thread of its own; returns their outcomes in order. */
  <T> List<Object> concurrently(List<Callable<T>> calls) throws Exception {
    List<Future<T>> futures = new ArrayList<>();
    calls.forEach(c -> futures.add(senders.submit(c)));
    List<Object> out = new ArrayList<>();
    for (Future<T> f : futures) {
      try {
        out.add(f.get(60, TimeUnit.SECONDS));
      } catch (java.util.concurrent.ExecutionException e) {
        out.add(e.getCause());
      }
    }
    return out;
  }

  static Status.Code code(Object outcome) {
    return outcome instanceof StatusRuntimeException e ? e.getStatus().getCode() : Status.Code.OK;
  }

  @Test
  void fiftyConcurrentSendersShareCommitsAndEveryAcknowledgedMessageIsInPostgresAfterRedisIsBack() throws Exception {
    startGateway("2ms");
    String prefix = "group-" + UUID.randomUUID();
    for (int s = 0; s < 50; s++) {
      gw.as("alice").sendMessage(msg(prefix + "-" + s % 10, "owner"));
    }
    tiers.stopRedis();
    int perSender = 20;
    List<Callable<List<String>>> calls = new ArrayList<>();
    for (int s = 0; s < 50; s++) {
      String thread = prefix + "-" + s % 10;
      calls.add(() -> {
        List<String> acked = new ArrayList<>();
        for (int i = 0; i < perSender; i++) {
          SendMessageResponse r = gw.as("alice").sendMessage(msg(thread, "during the outage " + i));
          assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
          assertThat(r.getFailoverReason()).isEqualTo(WritePath.REDIS_UNAVAILABLE);
          acked.add(r.getMessage().getMessageId());
        }
        return acked;
      });
    }
    List<Object> outcomes = concurrently(calls);
    List<String> acked = new ArrayList<>();
    for (Object o : outcomes) {
      assertThat(o).as("a sender's outcome").isInstanceOf(List.class);
      ((List<?>) o).forEach(id -> acked.add((String) id));
    }
    assertThat(acked).hasSize(50 * perSender).doesNotHaveDuplicates();

    DistributionSummary groups = groupRequests();
    assertThat(groups.totalAmount()).as("requests that went through group commits").isEqualTo(50.0 * perSender);
    assertThat(groups.count()).as("group commits for %s requests", acked.size()).isLessThan(acked.size() / 2);
    assertThat(groups.max()).as("the largest group").isGreaterThan(1.0);
    // Acknowledged by PostgreSQL: already committed, before Redis is back.
    assertThat(Databases.rowCounts(settings(), acked)).hasSize(acked.size()).allSatisfy((id, n) -> assertThat(n)
        .isEqualTo(1));

    tiers.startRedis();
    Poll.until(Duration.ofSeconds(30), "writes to go back to Redis",
        () -> gw.as("alice").sendMessage(msg(prefix + "-0", "after")).getAcknowledgedBy() == Tier.TIER_REDIS);
    assertThat(Databases.rowCounts(settings(), acked)).hasSize(acked.size()).allSatisfy((id, n) -> assertThat(n)
        .isEqualTo(1));
    // Each thread counted exactly its messages: 5 senders x perSender failover writes, the owner
    // message and (thread 0) the sends through Redis after, which are persisted meanwhile.
    Poll.until(Duration.ofSeconds(30), "thread counts to include the sends after the outage", () -> {
      try {
        return Databases.count(settings(), "SELECT sum(message_count) FROM threads WHERE thread_id LIKE ?",
            prefix + "%") == Databases.count(settings(), "SELECT count(*) FROM messages WHERE thread_id LIKE ?",
            prefix + "%");
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    assertThat(Databases.count(settings(), "SELECT count(*) FROM messages WHERE thread_id = ? AND content LIKE 'during%'",
        prefix + "-3")).isEqualTo(5L * perSender);
  }

  @Test
  void aRequestPostgresRefusesFailsAloneWhileTheOthersOfItsGroupAreStored() throws Exception {
    startGateway("300ms");
    String t = "poison-group-" + UUID.randomUUID();
    gw.as("alice").sendMessage(msg(t, "owner"));
    try (Connection c = Databases.connect(settings()); Statement s = c.createStatement()) {
      s.execute("CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
          + "IF NEW.content = 'poison' THEN RAISE EXCEPTION 'poison refused by test trigger' USING ERRCODE = '22023'; "
          + "END IF; RETURN NEW; END $$ LANGUAGE plpgsql");
      s.execute("CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_poison()");
    }
    try {
      tiers.stopRedis();
      List<Callable<Object>> calls = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        String content = i == 3 ? "poison" : "good " + i;
        calls.add(() -> gw.as("alice").sendMessage(msg(t, content)));
      }
      List<Object> outcomes = concurrently(calls);

      assertThat(code(outcomes.get(3))).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(((StatusRuntimeException) outcomes.get(3)).getStatus().getDescription())
          .contains("poison refused by test trigger");
      List<String> stored = new ArrayList<>();
      for (int i = 0; i < outcomes.size(); i++) {
        if (i != 3) {
          assertThat(outcomes.get(i)).as("send %d", i).isInstanceOf(SendMessageResponse.class);
          SendMessageResponse r = (SendMessageResponse) outcomes.get(i);
          assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
          stored.add(r.getMessage().getMessageId());
        }
      }
      assertThat(groupRequests().max()).as("the poison request shared its group").isGreaterThan(1.0);
      assertThat(Databases.rowCounts(settings(), stored)).hasSize(7);
      assertThat(Databases.count(settings(), "SELECT count(*) FROM messages WHERE thread_id = ? AND content = 'poison'",
          t)).isZero();
    } finally {
      try (Connection c = Databases.connect(settings()); Statement s = c.createStatement()) {
        s.execute("DROP TRIGGER IF EXISTS refuse_poison ON messages");
      }
    }
  }

  @Test
  void ownershipDenialsDuplicatesAndBatchesInOneGroupAreAnsweredAsIfAlone() throws Exception {
    startGateway("300ms");
    String owned = "owned-" + UUID.randomUUID();
    String fresh = "fresh-" + UUID.randomUUID();
    gw.as("alice").sendMessage(msg(owned, "owner"));
    tiers.stopRedis();
    SendMessageRequest keyed = msg(owned, "once").toBuilder().setIdempotencyKey("k-" + UUID.randomUUID()).build();
    SendMessageBatchRequest batch = SendMessageBatchRequest.newBuilder().setThreadId(owned)
        .addMessages(msg(owned, "batch 1")).addMessages(msg(owned, "batch 2")).addMessages(msg(owned, "batch 3"))
        .build();
    List<Callable<Object>> calls = List.of(
        () -> gw.as("bob").sendMessage(msg(owned, "intruder")),
        () -> gw.as("alice").sendMessage(keyed),
        () -> gw.as("alice").sendMessage(keyed),
        () -> gw.as("alice").sendMessageBatch(batch),
        () -> gw.as("carol").sendMessage(msg(fresh, "carol first?")),
        () -> gw.as("dave").sendMessage(msg(fresh, "dave first?")));
    List<Object> outcomes = concurrently(calls);

    assertThat(code(outcomes.get(0))).isEqualTo(Status.Code.PERMISSION_DENIED);
    SendMessageResponse a = (SendMessageResponse) outcomes.get(1);
    SendMessageResponse b = (SendMessageResponse) outcomes.get(2);
    assertThat(List.of(a.getDuplicate(), b.getDuplicate())).containsExactlyInAnyOrder(false, true);
    assertThat(a.getMessage()).isEqualTo(b.getMessage());
    assertThat(a.getMessage().getContent()).isEqualTo("once");
    assertThat(((SendMessageBatchResponse) outcomes.get(3)).getResultsList())
        .hasSize(3).allSatisfy(r -> assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES));
    // The new thread has one owner, the first writer: the other is denied and stores nothing.
    List<Status.Code> claims = List.of(code(outcomes.get(4)), code(outcomes.get(5)));
    assertThat(claims).containsExactlyInAnyOrder(Status.Code.OK, Status.Code.PERMISSION_DENIED);
    String winner = code(outcomes.get(4)) == Status.Code.OK ? "carol" : "dave";
    assertThat(Databases.value(settings(), "SELECT user_id FROM threads WHERE thread_id = ?", fresh)).isEqualTo(winner);
    assertThat(Databases.count(settings(), "SELECT count(*) FROM messages WHERE thread_id = ?", fresh)).isEqualTo(1);
    assertThat(Databases.count(settings(), "SELECT count(*) FROM messages WHERE thread_id = ?", owned))
        .as("owner, once, three of the batch").isEqualTo(5);
    assertThat(groupRequests().max()).as("the requests shared a group").isGreaterThan(1.0);
  }

  @Test
  void postgresUnreachableFailsEveryRequestOfTheGroupAsUnavailableAndStoresNothing() throws Exception {
    startGateway("300ms");
    String t = "both-down-" + UUID.randomUUID();
    gw.as("alice").sendMessage(msg(t, "owner"));
    Poll.until(Duration.ofSeconds(30), "the owner message persisted", () -> {
      try {
        return Databases.count(settings(), "SELECT count(*) FROM messages WHERE thread_id = ?", t) == 1;
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    tiers.stopRedis();
    tiers.stopPostgres();
    List<Callable<Object>> calls = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String content = "lost? " + i;
      calls.add(() -> gw.as("alice").sendMessage(msg(t, content)));
    }
    List<Object> outcomes = concurrently(calls);

    assertThat(outcomes).allSatisfy(o -> {
      assertThat(code(o)).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(((StatusRuntimeException) o).getStatus().getDescription())
          .contains("nothing was stored").contains("redis").contains("postgres");
    });
    tiers.startPostgres();
    Poll.until(Duration.ofSeconds(30), "postgres to answer again", () -> {
      try {
        return Databases.count(settings(), "SELECT count(*) FROM messages WHERE thread_id = ?", t) >= 0;
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    assertThat(Databases.count(settings(), "SELECT count(*) FROM messages WHERE thread_id = ? AND content LIKE 'lost?%'",
        t)).isZero();
  }
}
