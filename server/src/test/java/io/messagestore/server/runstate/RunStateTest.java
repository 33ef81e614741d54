package io.messagestore.server.runstate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.messagestore.api.v1.TtlClass;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.TestGateway;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** PutRunState and GetRunState against the shared tiers: versions, CAS, TTL classes, checkpoints, access, input. */
class RunStateTest {
  private static TestGateway gw;
  private static RedisClient redisClient;
  private static StatefulRedisConnection<String, String> redis;

  @BeforeAll
  static void start() throws Exception {
    gw = TestGateway.start(Map.of("MESSAGESTORE_RUN_CHECKPOINT_EVERY", "3",
        "MESSAGESTORE_RUN_CHECKPOINT_INTERVAL", "2s",
        "MESSAGESTORE_RUN_TTL_TEMPORARY", "120s", "MESSAGESTORE_RUN_TTL_PERSISTENT", "7200s",
        "MESSAGESTORE_MAX_RUN_STATE_BYTES", "2048"));
    redisClient = RedisClient.create(gw.config().redisUri().toString());
    redis = redisClient.connect();
  }

  @AfterAll
  static void stop() {
    redis.close();
    redisClient.shutdown();
    gw.close();
  }

  static String run() {
    return "run-" + UUID.randomUUID();
  }

  static PutRunStateRequest.Builder put(String run, String state) {
    return PutRunStateRequest.newBuilder().setRunId(run).setState(ByteString.copyFromUtf8(state));
  }

  static GetRunStateResponse get(String user, String run, long version) {
    return gw.as(user).getRunState(GetRunStateRequest.newBuilder().setRunId(run).setVersion(version).build());
  }

  static void assertStatus(ThrowingCallable call, Status.Code code, String descriptionPart) {
    assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(code);
      assertThat(e.getStatus().getDescription()).contains(descriptionPart);
    });
  }

  String key(String run, String suffix) {
    return "ms:{s" + new RedisKeys(gw.config().streamShards()).shardOf(run) + "}:r:" + run + ":" + suffix;
  }

  @Test
  void versionsStartAtOneAndGrowByOneAndTheLatestIsServedByRedis() {
    String run = run();
    PutRunStateResponse first = gw.as("alice").putRunState(put(run, "{\"step\":1}").setThreadId("t-1").build());
    PutRunStateResponse second = gw.as("alice").putRunState(put(run, "{\"step\":2}").build());

    assertThat(first.getRunState().getVersion()).isEqualTo(1);
    assertThat(first.getAcknowledgedBy()).isEqualTo(Tier.TIER_REDIS);
    assertThat(first.getRunState().getUserId()).isEqualTo("alice");
    assertThat(second.getRunState().getVersion()).isEqualTo(2);
    GetRunStateResponse latest = get("alice", run, 0);
    assertThat(latest.getServedFrom()).isEqualTo(Tier.TIER_REDIS);
    assertThat(latest.getRunState().getVersion()).isEqualTo(2);
    assertThat(latest.getRunState().getState().toStringUtf8()).isEqualTo("{\"step\":2}");
    assertThat(latest.getRunState().getTtlClass()).isEqualTo(TtlClass.CHECKPOINT);
  }

  @Test
  void aStaleExpectedVersionIsAbortedWithTheCurrentVersionAndChangesNothing() {
    String run = run();
    gw.as("alice").putRunState(put(run, "a").build());
    gw.as("alice").putRunState(put(run, "b").setExpectedVersion(1).build());

    assertStatus(() -> gw.as("alice").putRunState(put(run, "c").setExpectedVersion(1).build()),
        Status.Code.ABORTED, "is at version 2, not expected_version 1");
    assertThat(get("alice", run, 0).getRunState().getState().toStringUtf8()).isEqualTo("b");
    assertStatus(() -> gw.as("alice").putRunState(put(run(), "x").setExpectedVersion(3).build()),
        Status.Code.ABORTED, "is at version 0, not expected_version 3");
  }

  @Test
  void ttlClassesAreTheRedisTtlsAndEveryWriteRenewsThem() {
    String temporary = run();
    String persistent = run();
    String completed = run();
    gw.as("alice").putRunState(put(temporary, "t").setTtlClass(TtlClass.TEMPORARY).build());
    gw.as("alice").putRunState(put(persistent, "p").setTtlClass(TtlClass.PERSISTENT).build());
    gw.as("alice").putRunState(put(completed, "c").setTtlClass(TtlClass.PERSISTENT).setCompleted(true).build());

    assertThat(redis.sync().pttl(key(temporary, "state"))).isBetween(100_000L, 120_000L);
    assertThat(redis.sync().pttl(key(persistent, "state"))).isBetween(7_000_000L, 7_200_000L);
    assertThat(redis.sync().pttl(key(persistent, "meta"))).isBetween(7_000_000L, 7_200_000L);
    // A completed run is kept at most an hour, whatever its class.
    assertThat(redis.sync().pttl(key(completed, "state"))).isBetween(3_500_000L, 3_600_000L);
    redis.sync().pexpire(key(temporary, "state"), 50_000);
    gw.as("alice").putRunState(put(temporary, "t2").setTtlClass(TtlClass.TEMPORARY).build());
    assertThat(redis.sync().pttl(key(temporary, "state"))).isGreaterThan(100_000L);
  }

  @Test
  void onlyTheOwnerWritesAndTheOwnerOrAnAdminReads() {
    String run = run();
    gw.as("alice").putRunState(put(run, "mine").build());

    assertStatus(() -> gw.as("bob").putRunState(put(run, "theirs").build()), Status.Code.PERMISSION_DENIED,
        "run '" + run + "' belongs to another user, not 'bob'");
    assertStatus(() -> get("bob", run, 0), Status.Code.PERMISSION_DENIED, "not 'bob'");
    assertThat(gw.asAdmin("ops").getRunState(GetRunStateRequest.newBuilder().setRunId(run).build())
        .getRunState().getState().toStringUtf8()).isEqualTo("mine");
    assertStatus(() -> gw.asAdmin("ops").putRunState(put(run, "admin").build()), Status.Code.PERMISSION_DENIED,
        "not 'ops'");
  }

  @Test
  void badInputIsRefusedNamingTheFieldAndTheLimit() {
    assertStatus(() -> gw.as("alice").putRunState(put("", "x").build()), Status.Code.INVALID_ARGUMENT,
        "run_id is required");
    assertStatus(() -> gw.as("alice").putRunState(put("bad run/id", "x").build()), Status.Code.INVALID_ARGUMENT,
        "run_id must be 1-128 characters of [A-Za-z0-9._:-]");
    assertStatus(() -> gw.as("alice").putRunState(put("r".repeat(129), "x").build()), Status.Code.INVALID_ARGUMENT,
        "run_id must be 1-128");
    assertStatus(() -> gw.as("alice").putRunState(put(run(), "x".repeat(2049)).build()),
        Status.Code.INVALID_ARGUMENT, "state is 2049 bytes; the maximum is 2048 (MESSAGESTORE_MAX_RUN_STATE_BYTES)");
    assertStatus(() -> gw.as("alice").putRunState(put(run(), "x").setThreadId("no spaces").build()),
        Status.Code.INVALID_ARGUMENT, "thread_id must be");
    assertStatus(() -> gw.as("alice").putRunState(put(run(), "x").setExpectedVersion(-1).build()),
        Status.Code.INVALID_ARGUMENT, "expected_version must not be negative");
    assertStatus(() -> gw.as("alice").putRunState(put(run(), "x").setCheckpointValue(9).build()),
        Status.Code.INVALID_ARGUMENT, "checkpoint must be one of");
    assertStatus(() -> get("alice", "", 0), Status.Code.INVALID_ARGUMENT, "run_id is required");
    assertStatus(() -> get("alice", "a*b", 0), Status.Code.INVALID_ARGUMENT, "run_id must be 1-128");
    assertStatus(() -> get("alice", run(), -2), Status.Code.INVALID_ARGUMENT, "version must not be negative");
    assertStatus(() -> get("alice", run(), 0), Status.Code.NOT_FOUND, "not found");
  }

  @Test
  void criticalIsInPostgresBeforeTheAnswerAndFullKeepsEveryVersion() throws Exception {
    String run = run();
    PutRunStateResponse critical = gw.as("alice").putRunState(put(run, "v1").setCheckpoint(Checkpoint.CHECKPOINT_CRITICAL)
        .build());
    assertThat(critical.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
    assertThat(Databases.count(settings(), "SELECT version FROM run_states WHERE run_id = ? AND tip", run)).isEqualTo(1);
    for (int i = 2; i <= 4; i++) {
      gw.as("alice").putRunState(put(run, "v" + i).setCheckpoint(Checkpoint.CHECKPOINT_FULL).build());
    }

    assertThat(Databases.count(settings(), "SELECT count(*) FROM run_state_history WHERE run_id = ?", run)).isEqualTo(3);
    GetRunStateResponse old = get("alice", run, 2);
    assertThat(old.getRunState().getState().toStringUtf8()).isEqualTo("v2");
    assertThat(old.getServedFrom()).isEqualTo(Tier.TIER_POSTGRES);
    assertThat(get("alice", run, 4).getServedFrom()).isEqualTo(Tier.TIER_REDIS);
    assertStatus(() -> get("alice", run, 1), Status.Code.NOT_FOUND, "version 1 of run '" + run + "' was not kept");
    assertStatus(() -> get("bob", run, 2), Status.Code.PERMISSION_DENIED, "not 'bob'");
  }

  @Test
  void aNoneWriteAfterACriticalOneTakesPostgresTipBack() throws Exception {
    String run = run();
    gw.as("alice").putRunState(put(run, "v1").setCheckpoint(Checkpoint.CHECKPOINT_CRITICAL).build());
    PutRunStateResponse none = gw.as("alice").putRunState(put(run, "v2").build());

    assertThat(none.getRunState().getVersion()).isEqualTo(2);
    assertThat(none.getAcknowledgedBy()).isEqualTo(Tier.TIER_REDIS);
    assertThat(Databases.value(settings(), "SELECT tip::text || '/' || fence FROM run_states WHERE run_id = ?", run))
        .isEqualTo("false/2");
    PutRunStateResponse third = gw.as("alice").putRunState(put(run, "v3").build());
    assertThat(third.getRunState().getVersion()).isEqualTo(3);
  }

  @Test
  void aCriticalWriteGetsPastAFenceLeftByAWriteThatNeverReachedRedis() throws Exception {
    String run = run();
    gw.as("alice").putRunState(put(run, "v1").setCheckpoint(Checkpoint.CHECKPOINT_CRITICAL).build());
    gw.as("alice").putRunState(put(run, "v2").setCheckpoint(Checkpoint.CHECKPOINT_CRITICAL).build());
    // What a NONE write leaves when its gateway dies between taking PostgreSQL's tip back and Redis.
    try (var c = Databases.connect(settings()); var st = c.createStatement()) {
      st.executeUpdate("UPDATE run_states SET tip = false, fence = 3 WHERE run_id = '" + run + "'");
    }

    PutRunStateResponse third = gw.as("alice").putRunState(put(run, "v3").setCheckpoint(Checkpoint.CHECKPOINT_CRITICAL)
        .build());

    assertThat(third.getRunState().getVersion()).isEqualTo(3);
    assertThat(third.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
    assertThat(Databases.value(settings(), "SELECT version || '/' || tip::text FROM run_states WHERE run_id = ?", run))
        .isEqualTo("3/true");
    assertThat(get("alice", run, 0).getRunState().getState().toStringUtf8()).isEqualTo("v3");
  }

  @Test
  void autoRunsAreCheckpointedInTheBackgroundEveryNVersionsAndAfterTheInterval() throws Exception {
    String run = run();
    for (int i = 1; i <= 3; i++) {
      gw.as("alice").putRunState(put(run, "v" + i).setCheckpoint(Checkpoint.CHECKPOINT_AUTO).build());
    }
    Poll.until(Duration.ofSeconds(10), "version 3 checkpointed (every 3 versions)",
        () -> version(run) == 3);
    gw.as("alice").putRunState(put(run, "v4").setCheckpoint(Checkpoint.CHECKPOINT_AUTO).build());
    // One version past the checkpoint: saved by the interval (2 s), not by the count.
    Poll.until(Duration.ofSeconds(10), "version 4 checkpointed after the interval", () -> version(run) == 4);
    assertThat(Databases.value(settings(), "SELECT tip::text FROM run_states WHERE run_id = ?", run)).isEqualTo("false");
  }

  @Test
  void aCompletedRunTakesNoMoreWrites() {
    String run = run();
    gw.as("alice").putRunState(put(run, "done").setCompleted(true).build());

    assertStatus(() -> gw.as("alice").putRunState(put(run, "more").build()), Status.Code.ABORTED,
        "was completed at version 1 and takes no more writes");
  }

  static long version(String run) {
    try {
      String v = Databases.value(settings(), "SELECT version FROM run_states WHERE run_id = ? AND state IS NOT NULL", run);
      return v == null ? 0 : Long.parseLong(v);
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  static Map<String, String> settings() {
    return TestGateway.settings(Map.of());
  }
}
