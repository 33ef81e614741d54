package io.messagestore.server.read;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.LocalTiers;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.TestGateway;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Threads that fit their recent window, where pages come from Redis alone on the strength of
 * the thread-start marker: for random interleavings of writes, persistence and trims, losses of
 * the index (as when it expires) and the read-through that puts a short thread back, paging
 * forward and backward returns every message exactly once, in order.
 */
class ShortThreadPaginationPropertyTest {
  static final int WINDOW = 30;
  static TestGateway gw;
  static RedisClient redisClient;
  static StatefulRedisConnection<String, String> redis;

  @BeforeAll
  static void start() throws Exception {
    gw = TestGateway.start(Map.of("MESSAGESTORE_RECENT_WINDOW", Integer.toString(WINDOW),
        "MESSAGESTORE_PERSISTER_LINGER", "0ms"));
    redisClient = RedisClient.create(LocalTiers.shared().get("MESSAGESTORE_REDIS_URI"));
    redis = redisClient.connect();
  }

  @AfterAll
  static void stop() {
    redis.close();
    redisClient.shutdown();
    gw.close();
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void everyMessageExactlyOnceInOrderWhileTheIndexComesAndGoes(long seed) {
    Random random = new Random(seed);
    String thread = "short-prop-" + seed + "-" + UUID.randomUUID();
    String index = new RedisKeys(4).recent(thread);
    List<String> written = new ArrayList<>();
    write(thread, random, written, 1 + random.nextInt(8));

    // Pages of up to 40 around threads that grow to about the window: short first pages (which
    // put a thread back into a lost index), full ones, and threads that outgrow the window.
    for (int pass = 0; pass < 4; pass++) {
      boolean newestFirst = random.nextBoolean();
      List<String> before = new ArrayList<>(written);
      List<String> seen = new ArrayList<>();
      String token = "";
      do {
        if (random.nextInt(4) == 0) {
          loseIndex(index, written);
        }
        ListMessagesResponse page = gw.as("alice").listMessages(ListMessagesRequest.newBuilder().setThreadId(thread)
            .setNewestFirst(newestFirst).setPageSize(1 + random.nextInt(40)).setPageToken(token).build());
        page.getMessagesList().forEach(m -> seen.add(m.getMessageId()));
        token = page.getNextPageToken();
        if (!token.isEmpty() && random.nextBoolean()) {
          write(thread, random, written, 1 + random.nextInt(4));
        }
      } while (!token.isEmpty());
      if (newestFirst) {
        // Newer writes land above the first page and are not part of this pass.
        List<String> expected = new ArrayList<>(before);
        Collections.reverse(expected);
        assertThat(seen).as("backward pass %d, seed %d", pass, seed).containsExactlyElementsOf(expected);
      } else {
        // Everything written before the pass ended is seen, once, ascending.
        assertThat(seen).as("forward pass %d, seed %d", pass, seed).containsExactlyElementsOf(written);
      }
      write(thread, random, written, random.nextInt(6));
    }
  }

  /**
   * Drops the thread's recent index as its expiry would. An index only expires after
   * MESSAGE_TTL without sends, long after its messages were persisted, so wait for that first.
   */
  private static void loseIndex(String index, List<String> written) {
    Poll.until(Duration.ofSeconds(30), "every message persisted", () -> {
      try {
        return Databases.rowCounts(TestGateway.settings(Map.of()), written).size() == written.size();
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    });
    redis.sync().del(index);
  }

  private static void write(String thread, Random random, List<String> written, int n) {
    RandomWrites.write(gw, thread, random, written, n, 3);
  }
}
