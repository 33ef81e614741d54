package io.messagestore.server.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.Consumer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.sync.RedisCommands;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.Utf8KeysBinaryValuesCodec;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.PrivateTiersExtension;
import io.messagestore.server.testing.TestGateway;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The consumers stopped gateways leave in the persisters group, on a private Redis: forgotten
 * once idle with nothing pending, kept while they hold an entry, never the live instance's own.
 */
class LeftoverConsumersTest {
  @RegisterExtension
  static final PrivateTiersExtension privateTiers = new PrivateTiersExtension();

  private static final RedisKeys KEYS = new RedisKeys(4);

  @Test
  void aStoppedGatewaysConsumerIsForgottenWhileOneWithAPendingEntryIsKept() throws Exception {
    PrivateTiers tiers = privateTiers.get();
    RedisClient client = RedisClient.create("redis://127.0.0.1:" + tiers.redisPort);
    try (var connection = client.connect()) {
      RedisCommands<String, String> redis = connection.sync();
      // A gateway that runs and stops cleanly leaves its consumer, with nothing pending, in the
      // shards it read entries from (Redis creates a consumer at its first delivery).
      String thread = "t-" + UUID.randomUUID();
      int shard = KEYS.shardOf(thread);
      try (TestGateway stopped = TestGateway.startWith(tiers.settings(Map.of()))) {
        stopped.as("alice").sendMessage(message(thread));
        Poll.until(Duration.ofSeconds(20), "its consumer in the thread's shard",
            () -> !consumers(redis, shard).isEmpty());
      }
      Set<String> left = consumers(redis, shard).keySet();
      assertThat(left).hasSize(1);
      // One that died holding an entry: read and never acknowledged (not a message: nobody may
      // commit it, so the only way out for the ghost is a claim, which the next gateway's
      // hour-long claim timeout keeps from happening in this test).
      String stream = KEYS.stream(shard);
      redis.xadd(stream, "m", "not a message");
      assertThat(redis.xreadgroup(Consumer.from(StreamPersister.GROUP, "ghost"), XReadArgs.Builder.count(1),
          XReadArgs.StreamOffset.lastConsumed(stream))).hasSize(1);

      try (TestGateway live = TestGateway.startWith(tiers.settings(Map.of(
          "MESSAGESTORE_FORGET_CONSUMERS_AFTER", "1s", "MESSAGESTORE_PENDING_CLAIM_TIMEOUT", "1h")))) {
        Poll.until(Duration.ofSeconds(20), "the stopped gateway's consumer to be forgotten in every shard", () -> {
          for (int s = 0; s < 4; s++) {
            if (consumers(redis, s).keySet().stream().anyMatch(left::contains)) {
              return false;
            }
          }
          return true;
        });

        assertThat(consumers(redis, shard)).containsOnlyKeys("ghost").containsEntry("ghost", 1L);
        // The live gateway persists on, through a consumer of its own that no turn deletes.
        String sent = live.as("alice").sendMessage(message(thread)).getMessage().getMessageId();
        Databases.assertEachStoredOnce(tiers.settings(Map.of()), List.of(sent));
        assertThat(consumers(redis, shard)).containsKey("ghost").hasSize(2);
      }
    } finally {
      client.shutdown();
    }
  }

  @Test
  void theScriptDeletesOnlyConsumersIdleLongerThanItsLimitWithNothingPendingAndNeverTheCaller() throws Exception {
    PrivateTiers tiers = privateTiers.get();
    RedisClient client = RedisClient.create("redis://127.0.0.1:" + tiers.redisPort);
    try (var connection = client.connect(); var binary = client.connect(Utf8KeysBinaryValuesCodec.INSTANCE)) {
      RedisCommands<String, String> redis = connection.sync();
      String stream = "forget-test:" + UUID.randomUUID();
      redis.xgroupCreate(XReadArgs.StreamOffset.from(stream, "0"), StreamPersister.GROUP,
          XGroupCreateArgs.Builder.mkstream());
      for (String consumer : List.of("self", "done", "holding")) {
        redis.xadd(stream, "m", consumer);
        var read = redis.xreadgroup(Consumer.from(StreamPersister.GROUP, consumer), XReadArgs.Builder.count(1),
            XReadArgs.StreamOffset.lastConsumed(stream));
        if (!consumer.equals("holding")) {
          redis.xack(stream, StreamPersister.GROUP, read.get(0).getId());
        }
      }
      LeftoverConsumers leftovers = new LeftoverConsumers(Duration.ofSeconds(2), "self", Duration.ofSeconds(5));

      // All were active a moment ago.
      assertThat(leftovers.forget(binary, stream)).isEmpty();
      Poll.until(Duration.ofSeconds(20), "'done' to be idle for 2 s and forgotten",
          () -> leftovers.forget(binary, stream).equals(List.of("done")));

      assertThat(consumers(redis, stream)).containsOnlyKeys("self", "holding").containsEntry("holding", 1L);
    } finally {
      client.shutdown();
    }
  }

  private static SendMessageRequest message(String thread) {
    return SendMessageRequest.newBuilder().setThreadId(thread).setRole(Role.ROLE_USER).setContent("hi").build();
  }

  /** The persisters group's consumers of one shard and how many entries each has pending. */
  private static Map<String, Long> consumers(RedisCommands<String, String> redis, int shard) {
    return consumers(redis, KEYS.stream(shard));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Long> consumers(RedisCommands<String, String> redis, String stream) {
    Map<String, Long> out = new HashMap<>();
    for (Object c : redis.xinfoConsumers(stream, StreamPersister.GROUP)) {
      List<Object> fields = (List<Object>) c;
      Map<Object, Object> f = new HashMap<>();
      for (int i = 0; i + 1 < fields.size(); i += 2) {
        f.put(fields.get(i), fields.get(i + 1));
      }
      out.put((String) f.get("name"), (Long) f.get("pending"));
    }
    return out;
  }
}
