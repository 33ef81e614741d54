package io.messagestore.server.consistency;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.api.v1.GetTierStatusRequest;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.ListThreadsRequest;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.ThreadSummary;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.PrivateTiersExtension;
import io.messagestore.server.testing.TestGateway;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Messages written to PostgreSQL during a Redis outage, seen from Redis once it is back. The
 * private Redis keeps its data across the stop (AOF), so the thread's recent index survives the
 * outage without the failover writes: exactly the state that made pages served from Redis miss
 * them.
 */
class FailoverRepairTest {
  @RegisterExtension
  static final PrivateTiersExtension privateTiers = new PrivateTiersExtension();
  PrivateTiers tiers;
  TestGateway gw;

  @BeforeEach
  void startGateway() throws Exception {
    tiers = privateTiers.get();
    gw = TestGateway.startWith(tiers.settings(Map.of()));
  }

  @AfterEach
  void stopGateway() {
    gw.close();
  }

  static SendMessageRequest msg(String thread, String content) {
    return SendMessageRequest.newBuilder().setThreadId(thread).setRole(Role.ROLE_USER).setContent(content).build();
  }

  long awaitingRepair() {
    return awaitingRepairOn(gw);
  }

  static long awaitingRepairOn(TestGateway gateway) {
    return gateway.admin().getTierStatus(GetTierStatusRequest.getDefaultInstance()).getThreadsAwaitingRedisRepair();
  }

  List<String> sendThroughRedis(String thread, int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      SendMessageResponse r = gw.as("alice").sendMessage(msg(thread, "redis " + i));
      assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_REDIS);
      ids.add(r.getMessage().getMessageId());
    }
    return ids;
  }

  List<String> sendDuringRedisOutage(String thread, int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      SendMessageResponse r = gw.as("alice").sendMessage(msg(thread, "failover " + i));
      assertThat(r.getFailoverReason()).isEqualTo("redis_unavailable");
      ids.add(r.getMessage().getMessageId());
    }
    return ids;
  }

  ListMessagesResponse newest(String thread, int pageSize) {
    return newestOn(gw, thread, pageSize);
  }

  static ListMessagesResponse newestOn(TestGateway gateway, String thread, int pageSize) {
    return gateway.as("alice").listMessages(ListMessagesRequest.newBuilder().setThreadId(thread).setPageSize(pageSize)
        .setNewestFirst(true).build());
  }

  static List<String> ids(ListMessagesResponse page) {
    return page.getMessagesList().stream().map(Message::getMessageId).toList();
  }

  static List<String> newestFirst(List<String> ids, int n) {
    return ids.stream().sorted(Comparator.reverseOrder()).limit(n).toList();
  }

  @Test
  void failoverWritesAppearInPagesServedFromRedisOnceItIsBack() throws Exception {
    String t = "repair-" + UUID.randomUUID();
    List<String> all = new ArrayList<>(sendThroughRedis(t, 10));
    tiers.stopRedis();
    all.addAll(sendDuringRedisOutage(t, 5));
    tiers.startRedis();

    // Right after the outage, whether or not the repair has run: never a page without them.
    assertThat(ids(newest(t, 8))).containsExactlyElementsOf(newestFirst(all, 8));
    Poll.until(Duration.ofSeconds(20), "the thread to be repaired", () -> awaitingRepair() == 0);
    Poll.until(Duration.ofSeconds(20), "the page to be served from Redis again",
        () -> newest(t, 8).getServedFrom() == Tier.TIER_REDIS);
    assertThat(ids(newest(t, 8))).containsExactlyElementsOf(newestFirst(all, 8));
    assertThat(ids(newest(t, 15))).containsExactlyElementsOf(newestFirst(all, 15));

    // Sends through Redis carry on from there, without a gap at the failover ones.
    all.addAll(sendThroughRedis(t, 3));
    ListMessagesResponse page = newest(t, 10);
    assertThat(page.getServedFrom()).isEqualTo(Tier.TIER_REDIS);
    assertThat(ids(page)).containsExactlyElementsOf(newestFirst(all, 10));
  }

  @Test
  void aFirstPageKeptBeforeWritesAroundAFrozenRedisIsNotServedAfterThem() throws Exception {
    String t = "repair-frozen-" + UUID.randomUUID();
    List<String> all = new ArrayList<>(sendThroughRedis(t, 10));
    assertThat(ids(newest(t, 8))).containsExactlyElementsOf(newestFirst(all, 8));
    assertThat(newest(t, 8).getServedFrom()).isEqualTo(Tier.TIER_REDIS); // kept by the near cache

    // Frozen, not stopped: every connection stays open, so no copy goes with a lost connection.
    tiers.pauseRedis();
    try {
      all.addAll(sendDuringRedisOutage(t, 3));
    } finally {
      tiers.resumeRedis();
    }

    assertThat(ids(newest(t, 8))).containsExactlyElementsOf(newestFirst(all, 8));
    Poll.until(Duration.ofSeconds(20), "the thread to be repaired", () -> awaitingRepair() == 0);
    Poll.until(Duration.ofSeconds(20), "the page to be served from Redis again",
        () -> newest(t, 8).getServedFrom() == Tier.TIER_REDIS);
    assertThat(ids(newest(t, 8))).containsExactlyElementsOf(newestFirst(all, 8));
  }

  @Test
  void anotherInstanceDoesNotServeShortPagesOfAThreadWrittenAroundRedis() throws Exception {
    String t = "repair-other-" + UUID.randomUUID();
    List<String> all = new ArrayList<>(sendThroughRedis(t, 10));
    try (TestGateway other = TestGateway.startWith(tiers.settings(Map.of()))) {
      tiers.stopRedis();
      all.addAll(sendDuringRedisOutage(t, 5));
      // The other instance learns of the failover writes from PostgreSQL, not from this one.
      Poll.until(Duration.ofSeconds(20), "the other instance to know the thread awaits its repair",
          () -> awaitingRepairOn(other) == 1);
      tiers.startRedis();
      assertThat(ids(newestOn(other, t, 8))).containsExactlyElementsOf(newestFirst(all, 8));
      Poll.until(Duration.ofSeconds(20), "both instances to see the repair done",
          () -> awaitingRepair() == 0 && awaitingRepairOn(other) == 0);
      Poll.until(Duration.ofSeconds(20), "the other instance to serve the page from Redis",
          () -> newestOn(other, t, 8).getServedFrom() == Tier.TIER_REDIS);
      assertThat(ids(newestOn(other, t, 8))).containsExactlyElementsOf(newestFirst(all, 8));
    }
  }

  @Test
  void anotherInstanceLearnsOfAFailoverWriteWhenItCommitsNotAtItsNextPoll() throws Exception {
    String t = "repair-notified-" + UUID.randomUUID();
    List<String> all = new ArrayList<>(sendThroughRedis(t, 10));
    try (TestGateway other = TestGateway.startWith(tiers.settings(Map.of("MESSAGESTORE_REDIS_REPAIR_INTERVAL", "1h")))) {
      tiers.stopRedis();
      all.addAll(sendDuringRedisOutage(t, 5));
      // Its poll is an hour away: only PostgreSQL's notification can tell it in time.
      Poll.until(Duration.ofSeconds(10), "the other instance to know the thread awaits its repair",
          () -> awaitingRepairOn(other) == 1);
      tiers.startRedis();
      assertThat(ids(newestOn(other, t, 8))).containsExactlyElementsOf(newestFirst(all, 8));
    }
    Poll.until(Duration.ofSeconds(20), "the thread to be repaired", () -> awaitingRepair() == 0);
  }

  @Test
  void notificationsOfFailoverWritesResumeAfterPostgresRestarts() throws Exception {
    String t = "repair-notified-restart-" + UUID.randomUUID();
    sendThroughRedis(t, 3);
    try (TestGateway other = TestGateway.startWith(tiers.settings(Map.of("MESSAGESTORE_REDIS_REPAIR_INTERVAL", "1h")))) {
      tiers.stopPostgres();
      tiers.startPostgres();
      tiers.stopRedis();
      // The first failover writes may meet pool connections that died with the old server.
      Poll.until(Duration.ofSeconds(20), "a failover write to succeed", () -> {
        try {
          return gw.as("alice").sendMessage(msg(t, "after restart")).getFailoverReason().equals("redis_unavailable");
        } catch (io.grpc.StatusRuntimeException e) {
          return false;
        }
      });
      Poll.until(Duration.ofSeconds(10), "the other instance to hear of it over its new listening connection",
          () -> awaitingRepairOn(other) == 1);
      tiers.startRedis();
    }
    Poll.until(Duration.ofSeconds(20), "the thread to be repaired", () -> awaitingRepair() == 0);
  }

  @Test
  void idempotencyKeyUsedDuringFailoverIsHonouredByRedisAfterwards() throws Exception {
    String t = "repair-idem-" + UUID.randomUUID();
    sendThroughRedis(t, 1);
    tiers.stopRedis();
    SendMessageRequest once = msg(t, "once").toBuilder().setIdempotencyKey("retry-me").build();
    SendMessageResponse first = gw.as("alice").sendMessage(once);
    assertThat(first.getFailoverReason()).isEqualTo("redis_unavailable");
    tiers.startRedis();
    Poll.until(Duration.ofSeconds(20), "the thread to be repaired", () -> awaitingRepair() == 0);
    // Retries until one reaches Redis (the gateway's own connections reconnect by themselves, and
    // its breaker may still be open); whichever tier answers, each is the same duplicate.
    List<SendMessageResponse> retries = new ArrayList<>();
    Poll.until(Duration.ofSeconds(20), "a retry answered by redis", () -> {
      retries.add(gw.as("alice").sendMessage(once));
      return retries.get(retries.size() - 1).getAcknowledgedBy() == Tier.TIER_REDIS;
    });
    assertThat(retries).allSatisfy(retry -> {
      assertThat(retry.getDuplicate()).isTrue();
      assertThat(retry.getMessage().getMessageId()).isEqualTo(first.getMessage().getMessageId());
      assertThat(retry.getMessage().getContent()).isEqualTo("once");
    });
    assertThat(Databases.count(tiers.settings(Map.of()),
        "SELECT count(*) FROM messages WHERE thread_id = ? AND content = 'once'", t)).isEqualTo(1);
  }

  @Test
  void keyedRetryReachingRedisBeforeAnyRepairRoundIsStillADuplicate() throws Exception {
    // No poll during the test, and a breaker that never opens, so no closing breaker starts a
    // round either: only the keyed send itself can put the key into Redis in time.
    gw.close();
    gw = TestGateway.startWith(tiers.settings(Map.of("MESSAGESTORE_REDIS_REPAIR_INTERVAL", "1h",
        "MESSAGESTORE_BREAKER_MINIMUM_CALLS", "1000", "MESSAGESTORE_BREAKER_WINDOW", "1000")));
    String t = "repair-idem-early-" + UUID.randomUUID();
    sendThroughRedis(t, 1);
    tiers.stopRedis();
    SendMessageRequest once = msg(t, "once").toBuilder().setIdempotencyKey("retry-early").build();
    SendMessageResponse first = gw.as("alice").sendMessage(once);
    assertThat(first.getFailoverReason()).isEqualTo("redis_unavailable");
    tiers.startRedis();
    assertThat(awaitingRepair()).isEqualTo(1);

    List<SendMessageResponse> retries = new ArrayList<>();
    Poll.until(Duration.ofSeconds(20), "a retry answered by redis", () -> {
      retries.add(gw.as("alice").sendMessage(once));
      return retries.get(retries.size() - 1).getAcknowledgedBy() == Tier.TIER_REDIS;
    });
    assertThat(retries).allSatisfy(retry -> {
      assertThat(retry.getDuplicate()).isTrue();
      assertThat(retry.getMessage().getMessageId()).isEqualTo(first.getMessage().getMessageId());
      assertThat(retry.getMessage().getContent()).isEqualTo("once");
    });
    assertThat(awaitingRepair()).isZero();
    Poll.until(Duration.ofSeconds(20), "the stream to be drained", () -> gw.admin()
        .getTierStatus(GetTierStatusRequest.getDefaultInstance()).getStreamBacklog() == 0);
    assertThat(Databases.count(tiers.settings(Map.of()),
        "SELECT count(*) FROM messages WHERE thread_id = ? AND content = 'once'", t)).isEqualTo(1);
    assertThat(newest(t, 10).getMessagesList()).filteredOn(m -> m.getContent().equals("once")).hasSize(1);
  }

  @Test
  void threadListCachedBeforeTheOutageShowsFailoverWritesAfterRepair() throws Exception {
    String t = "repair-list-" + UUID.randomUUID();
    List<String> before = sendThroughRedis(t, 4);
    Poll.until(Duration.ofSeconds(20), "the first messages persisted",
        () -> persisted(before) == 4);
    Poll.until(Duration.ofSeconds(20), "the thread list to count them", () -> countOf(t) == 4);
    tiers.stopRedis();
    sendDuringRedisOutage(t, 3);
    tiers.startRedis();
    Poll.until(Duration.ofSeconds(20), "the thread to be repaired", () -> awaitingRepair() == 0);

    assertThat(countOf(t)).isEqualTo(7);
  }

  int persisted(List<String> ids) {
    try {
      return Databases.rowCounts(tiers.settings(Map.of()), ids).size();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  long countOf(String thread) {
    return gw.as("alice").listThreads(ListThreadsRequest.newBuilder().setPageSize(1000).build()).getThreadsList()
        .stream().filter(s -> s.getThreadId().equals(thread)).mapToLong(ThreadSummary::getMessageCount)
        .findFirst().orElse(-1);
  }
}
