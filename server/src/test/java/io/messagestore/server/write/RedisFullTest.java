package io.messagestore.server.write;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.messagestore.api.v1.GetMessageRequest;
import io.messagestore.api.v1.GetTierStatusRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.Tier;
import io.messagestore.api.v1.TierStatus;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.PrivateTiersExtension;
import io.messagestore.server.testing.TestGateway;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Redis near or at its {@code maxmemory} (OPERATIONS.md, "How much memory Redis needs"), on a
 * private Redis whose limit and eviction policy the tests set for real: the operator is warned
 * before it is full and of a policy that could evict unpersisted messages, and a full Redis
 * refuses the send script with an OOM error, so the sends fail over to PostgreSQL.
 */
class RedisFullTest {
  @RegisterExtension
  static final PrivateTiersExtension privateTiers = new PrivateTiersExtension();
  PrivateTiers tiers;
  TestGateway gw;
  RedisClient admin;
  StatefulRedisConnection<String, String> redis;

  @BeforeEach
  void start() throws Exception {
    tiers = privateTiers.get();
    gw = TestGateway.startWith(tiers.settings(Map.of()));
    admin = RedisClient.create("redis://127.0.0.1:" + tiers.redisPort);
    redis = admin.connect();
  }

  @AfterEach
  void stop() {
    try {
      redis.sync().configSet("maxmemory", "0");
      redis.sync().configSet("maxmemory-policy", "noeviction");
    } finally {
      redis.close();
      admin.shutdown();
      gw.close();
    }
  }

  @Test
  void tierStatusAndMetricsWarnOfARiskyEvictionPolicyAndOfARedisNearlyFull() {
    redis.sync().configSet("maxmemory-policy", "allkeys-lru");
    long used = Long.parseLong(redis.sync().info("memory").lines()
        .filter(l -> l.startsWith("used_memory:")).findFirst().orElseThrow().substring("used_memory:".length()).trim());
    // Room for what is there and a little more: nearly full, still taking writes.
    long max = used + used / 20;
    redis.sync().configSet("maxmemory", Long.toString(max));

    Poll.until(Duration.ofSeconds(10), "the next probe to see the new settings", () -> gw.admin()
        .getTierStatus(GetTierStatusRequest.getDefaultInstance()).getTiers(0).getDetail()
        .contains("maxmemory-policy=allkeys-lru"));
    TierStatus redisStatus = gw.admin().getTierStatus(GetTierStatusRequest.getDefaultInstance()).getTiers(0);
    assertThat(redisStatus.getWarningsList())
        .anySatisfy(w -> assertThat(w).startsWith("maxmemory-policy=allkeys-lru: when full, Redis may evict a "
            + "persistence stream"))
        .anySatisfy(w -> assertThat(w).matches("used_memory at (9\\d|1\\d\\d)% of maxmemory \\(.*"));
    String scrape = gw.gateway().meters().scrape();
    assertThat(gauge(scrape, "messagestore_redis_memory_max_bytes")).isEqualTo(max);
    assertThat(gauge(scrape, "messagestore_redis_memory_used_bytes")).isGreaterThan(0.9 * max);
  }

  private static double gauge(String scrape, String name) {
    return scrape.lines().filter(l -> l.startsWith(name + " ")).findFirst()
        .map(l -> Double.parseDouble(l.substring(name.length() + 1))).orElseThrow();
  }

  @Test
  void sendsToAFullRedisFailOverToPostgresAndReturnOnceThereIsRoom() throws Exception {
    String t = "full-" + UUID.randomUUID();
    List<String> acked = new ArrayList<>();
    acked.add(gw.as("alice").sendMessage(WriteOutageTest.msg(t, "before")).getMessage().getMessageId());

    redis.sync().configSet("maxmemory-policy", "noeviction");
    redis.sync().configSet("maxmemory", "1");
    for (int i = 0; i < 10; i++) {
      SendMessageResponse r = gw.as("alice").sendMessage(WriteOutageTest.msg(t, "while full " + i));
      assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
      assertThat(r.getFailoverReason()).isEqualTo(WritePath.REDIS_UNAVAILABLE);
      acked.add(r.getMessage().getMessageId());
    }
    // Committed before the answer, and readable.
    assertThat(Databases.rowCounts(tiers.settings(Map.of()), acked.subList(1, acked.size()))).hasSize(10);
    assertThat(gw.as("alice").getMessage(GetMessageRequest.newBuilder().setThreadId(t)
        .setMessageId(acked.get(5)).build()).getMessage().getContent()).isEqualTo("while full 4");

    redis.sync().configSet("maxmemory", "0");
    Poll.until(Duration.ofSeconds(20), "sends to go back to redis", () -> {
      SendMessageResponse r = gw.as("alice").sendMessage(WriteOutageTest.msg(t, "after"));
      acked.add(r.getMessage().getMessageId());
      return r.getAcknowledgedBy() == Tier.TIER_REDIS;
    });
    Databases.assertEachStoredOnce(tiers.settings(Map.of()), acked);
  }
}
