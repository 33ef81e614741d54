package io.messagestore.server.write;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.messagestore.api.v1.GetMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.Tier;
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
 * Redis at its {@code maxmemory} with nothing it may evict (OPERATIONS.md, "How much memory
 * Redis needs"): it refuses the send script with an OOM error, and the sends fail over to
 * PostgreSQL as in an outage, on a private Redis whose limit the test sets for real.
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
    } finally {
      redis.close();
      admin.shutdown();
      gw.close();
    }
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
