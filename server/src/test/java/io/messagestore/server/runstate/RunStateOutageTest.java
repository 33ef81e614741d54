package io.messagestore.server.runstate;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.messagestore.api.v1.Checkpoint;
import io.messagestore.api.v1.GetRunStateRequest;
import io.messagestore.api.v1.GetRunStateResponse;
import io.messagestore.api.v1.PutRunStateRequest;
import io.messagestore.api.v1.PutRunStateResponse;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.LocalTiers;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.PrivateTiersExtension;
import io.messagestore.server.testing.TestGateway;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Run state across tiers on private Redis and PostgreSQL: concurrent CAS, Redis flushed, Redis stopped. */
class RunStateOutageTest {
  @RegisterExtension
  static final PrivateTiersExtension privateTiers = new PrivateTiersExtension();
  PrivateTiers tiers;
  TestGateway one;
  TestGateway two;

  @BeforeEach
  void startGateways() throws Exception {
    tiers = privateTiers.get();
    Map<String, String> s = tiers.settings(Map.of("MESSAGESTORE_RUN_CHECKPOINT_EVERY", "3",
        "MESSAGESTORE_RUN_CHECKPOINT_INTERVAL", "60s", "MESSAGESTORE_ARCHIVE_INTERVAL", "1s",
        "MESSAGESTORE_REDIS_REPAIR_INTERVAL", "500ms"));
    one = TestGateway.startWith(s);
    two = TestGateway.startWith(s);
  }

  @AfterEach
  void stopGateways() {
    one.close();
    two.close();
  }

  static String run() {
    return "run-" + UUID.randomUUID();
  }

  static PutRunStateRequest put(String run, String state, Checkpoint checkpoint) {
    return PutRunStateRequest.newBuilder().setRunId(run).setState(ByteString.copyFromUtf8(state))
        .setCheckpoint(checkpoint).build();
  }

  static GetRunStateResponse get(TestGateway gw, String run, long version) {
    return gw.as("alice").getRunState(GetRunStateRequest.newBuilder().setRunId(run).setVersion(version).build());
  }

  Map<String, String> settings() {
    return tiers.settings(Map.of());
  }

  void flushRedis() throws Exception {
    RedisClient client = RedisClient.create("redis://127.0.0.1:" + tiers.redisPort);
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      c.sync().flushall();
    } finally {
      client.shutdown();
    }
    // The near caches drop their copies as Redis's flush notice arrives.
    one.gateway().nearCache().barrier().get(10, TimeUnit.SECONDS);
    two.gateway().nearCache().barrier().get(10, TimeUnit.SECONDS);
  }

  @Test
  void tenReadThenCasWritersOnTwoGatewaysLoseNoUpdate() throws Exception {
    String run = run();
    one.as("alice").putRunState(put(run, "start", Checkpoint.CHECKPOINT_NONE));
    Set<Long> won = ConcurrentHashMap.newKeySet();
    List<Long> accepted = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService writers = Executors.newFixedThreadPool(10);
    List<Future<?>> done = new ArrayList<>();
    for (int w = 0; w < 10; w++) {
      TestGateway gw = w % 2 == 0 ? one : two;
      // Every kind of write, so the compare-and-set meets PostgreSQL's side too.
      Checkpoint kind = Checkpoint.forNumber(w % 4);
      int writer = w;
      done.add(writers.submit(() -> {
        for (int i = 0; i < 25; i++) {
          long seen = get(gw, run, 0).getRunState().getVersion();
          try {
            PutRunStateResponse r = gw.as("alice").putRunState(put(run, "w" + writer + "-" + i, kind).toBuilder()
                .setExpectedVersion(seen).build());
            assertThat(r.getRunState().getVersion()).isEqualTo(seen + 1);
            assertThat(won.add(r.getRunState().getVersion())).as("version %d won twice", seen + 1).isTrue();
            accepted.add(r.getRunState().getVersion());
          } catch (StatusRuntimeException e) {
            assertThat(e.getStatus().getCode()).as(e.toString()).isEqualTo(Status.Code.ABORTED);
          }
        }
        return null;
      }));
    }
    for (Future<?> f : done) {
      f.get(5, TimeUnit.MINUTES);
    }
    writers.shutdown();

    assertThat(accepted).isNotEmpty();
    long finalVersion = get(one, run, 0).getRunState().getVersion();
    assertThat(finalVersion).isEqualTo(1 + accepted.size());
    assertThat(get(two, run, 0).getRunState().getVersion()).isEqualTo(finalVersion);
    assertThat(won).containsExactlyInAnyOrderElementsOf(
        java.util.stream.LongStream.rangeClosed(2, finalVersion).boxed().toList());
  }

  @Test
  void afterRedisIsFlushedEveryRunComesBackFromTheTierThatKeptIt() throws Exception {
    String critical = run();
    String auto = run();
    String full = run();
    String completed = run();
    for (int i = 1; i <= 3; i++) {
      one.as("alice").putRunState(put(critical, "c" + i, Checkpoint.CHECKPOINT_CRITICAL));
      one.as("alice").putRunState(put(full, "f" + i, Checkpoint.CHECKPOINT_FULL));
    }
    for (int i = 1; i <= 8; i++) {
      one.as("alice").putRunState(put(auto, "a" + i, Checkpoint.CHECKPOINT_AUTO));
    }
    one.as("alice").putRunState(put(completed, "final", Checkpoint.CHECKPOINT_NONE).toBuilder().setCompleted(true)
        .build());
    // The policy: never more than EVERY - 1 (here 2) versions behind, once the checkpointer has run.
    Poll.until(Duration.ofSeconds(10), "auto run checkpointed by the policy", () -> version(auto) >= 6);
    Poll.until(Duration.ofSeconds(30), "completed run in ClickHouse", () -> archived(completed) == 1);
    Poll.until(Duration.ofSeconds(10), "completed run gone from PostgreSQL's state",
        () -> count("SELECT count(*) FROM run_states WHERE run_id = ? AND archived_at IS NOT NULL", completed) == 1);

    flushRedis();

    GetRunStateResponse restored = get(one, critical, 0);
    assertThat(restored.getServedFrom()).isEqualTo(Tier.TIER_POSTGRES);
    assertThat(restored.getRunState().getVersion()).isEqualTo(3);
    assertThat(restored.getRunState().getState().toStringUtf8()).isEqualTo("c3");
    assertThat(get(two, critical, 0).getServedFrom()).isEqualTo(Tier.TIER_REDIS);
    assertThat(get(one, critical, 0).getServedFrom()).isEqualTo(Tier.TIER_REDIS);

    GetRunStateResponse autoRestored = get(one, auto, 0);
    assertThat(autoRestored.getServedFrom()).isEqualTo(Tier.TIER_POSTGRES);
    assertThat(autoRestored.getRunState().getVersion()).isBetween(6L, 8L);

    GetRunStateResponse old = get(two, full, 1);
    assertThat(old.getServedFrom()).isEqualTo(Tier.TIER_POSTGRES);
    assertThat(old.getRunState().getState().toStringUtf8()).isEqualTo("f1");

    GetRunStateResponse fromArchive = get(two, completed, 0);
    assertThat(fromArchive.getServedFrom()).isEqualTo(Tier.TIER_CLICKHOUSE);
    assertThat(fromArchive.getRunState().getCompleted()).isTrue();
    assertThat(fromArchive.getRunState().getState().toStringUtf8()).isEqualTo("final");
    assertThat(get(two, completed, 0).getServedFrom()).isEqualTo(Tier.TIER_REDIS);

    // A write after the flush continues from the restored version.
    assertThat(one.as("alice").putRunState(put(critical, "c4", Checkpoint.CHECKPOINT_CRITICAL))
        .getRunState().getVersion()).isEqualTo(4);
  }

  @Test
  void withRedisStoppedReadsComeFromPostgresAndOnlyProvablyNewestRunsAreWritten() throws Exception {
    String critical = run();
    String none = run();
    one.as("alice").putRunState(put(critical, "before-1", Checkpoint.CHECKPOINT_CRITICAL));
    one.as("alice").putRunState(put(critical, "before-2", Checkpoint.CHECKPOINT_CRITICAL));
    one.as("alice").putRunState(put(none, "redis only", Checkpoint.CHECKPOINT_NONE));

    tiers.stopRedis();

    Poll.until(Duration.ofSeconds(20), "reads from PostgreSQL", () -> {
      GetRunStateResponse r = get(two, critical, 0);
      return r.getServedFrom() == Tier.TIER_POSTGRES && r.getRunState().getVersion() == 2;
    });
    List<Long> acceptedAroundRedis = new ArrayList<>();
    Poll.until(Duration.ofSeconds(20), "a write through PostgreSQL", () -> {
      try {
        PutRunStateResponse r = one.as("alice").putRunState(put(critical, "during", Checkpoint.CHECKPOINT_NONE));
        assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
        acceptedAroundRedis.add(r.getRunState().getVersion());
        return true;
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).as(e.toString()).isEqualTo(Status.Code.UNAVAILABLE);
        return false;
      }
    });
    assertThat(acceptedAroundRedis).containsExactly(3L);
    PutRunStateResponse second = two.as("alice").putRunState(put(critical, "during-2", Checkpoint.CHECKPOINT_CRITICAL)
        .toBuilder().setExpectedVersion(3).build());
    assertThat(second.getRunState().getVersion()).isEqualTo(4);
    assertThat(second.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
    try {
      one.as("alice").putRunState(put(none, "lost?", Checkpoint.CHECKPOINT_CRITICAL));
      throw new AssertionError("a run PostgreSQL never saw was written without Redis");
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.getStatus().getDescription()).contains("nothing was written");
    }

    // Redis comes back with its copy of version 2.
    tiers.startRedis();
    for (TestGateway gw : List.of(one, two)) {
      Poll.until(Duration.ofSeconds(30), "the newest version read through Redis", () -> {
        GetRunStateResponse r = get(gw, critical, 0);
        return r.getServedFrom() == Tier.TIER_REDIS && r.getRunState().getVersion() == 4
            && r.getRunState().getState().toStringUtf8().equals("during-2");
      });
    }
    PutRunStateResponse after = two.as("alice").putRunState(put(critical, "after", Checkpoint.CHECKPOINT_NONE));
    assertThat(after.getRunState().getVersion()).isEqualTo(5);
    assertThat(get(one, critical, 0).getRunState().getState().toStringUtf8()).isEqualTo("after");
    assertThat(get(one, none, 0).getRunState().getState().toStringUtf8()).isEqualTo("redis only");
  }

  long version(String run) {
    try {
      String v = Databases.value(settings(), "SELECT version FROM run_states WHERE run_id = ? AND state IS NOT NULL",
          run);
      return v == null ? 0 : Long.parseLong(v);
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  long count(String sql, String run) {
    try {
      return Databases.count(settings(), sql, run);
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  static long archived(String run) {
    String url = LocalTiers.shared().get("MESSAGESTORE_CLICKHOUSE_URL");
    String sql = "SELECT count() FROM messagestore.run_states_archive WHERE run_id = '" + run + "' FORMAT TabSeparated";
    try {
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + "/"))
          .POST(HttpRequest.BodyPublishers.ofString(sql)).build(), HttpResponse.BodyHandlers.ofString());
      return Long.parseLong(r.body().strip());
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }
}
