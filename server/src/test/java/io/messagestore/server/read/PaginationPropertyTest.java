package io.messagestore.server.read;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.Message;
import io.messagestore.server.testing.TestGateway;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * For random interleavings of writes (single and batched), persistence (running concurrently,
 * trimming a deliberately small recent window) and page sizes, paging forward and backward
 * returns every message exactly once, in order.
 */
class PaginationPropertyTest {
  static TestGateway gw;

  @BeforeAll
  static void start() throws Exception {
    // A window of 5 puts the Redis/PostgreSQL seam inside almost every page.
    gw = TestGateway.start(Map.of("MESSAGESTORE_RECENT_WINDOW", "5", "MESSAGESTORE_PERSISTER_LINGER", "0ms"));
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6})
  void everyMessageExactlyOnceInOrderBothWays(long seed) {
    Random random = new Random(seed);
    String thread = "prop-" + seed + "-" + UUID.randomUUID();
    List<String> written = new ArrayList<>();
    write(thread, random, written, 10 + random.nextInt(40));

    // Forward, with writes landing between pages: everything written before the pass ended
    // must be seen, once, ascending.
    List<String> forward = new ArrayList<>();
    String token = "";
    do {
      ListMessagesResponse page = gw.as("alice").listMessages(ListMessagesRequest.newBuilder().setThreadId(thread)
          .setPageSize(1 + random.nextInt(12)).setPageToken(token).build());
      page.getMessagesList().forEach(m -> forward.add(m.getMessageId()));
      token = page.getNextPageToken();
      if (!token.isEmpty() && random.nextBoolean()) {
        write(thread, random, written, 1 + random.nextInt(6));
      }
    } while (!token.isEmpty());
    assertThat(forward).as("forward pass, seed %d", seed).containsExactlyElementsOf(written);

    // Backward from the newest at the start of the pass; newer writes land above it and are
    // not part of this pass.
    List<String> snapshot = new ArrayList<>(written);
    List<String> backward = new ArrayList<>();
    token = "";
    do {
      ListMessagesResponse page = gw.as("alice").listMessages(ListMessagesRequest.newBuilder().setThreadId(thread)
          .setNewestFirst(true).setPageSize(1 + random.nextInt(12)).setPageToken(token).build());
      page.getMessagesList().forEach(m -> backward.add(m.getMessageId()));
      token = page.getNextPageToken();
      if (!token.isEmpty() && random.nextBoolean()) {
        write(thread, random, written, 1 + random.nextInt(6));
      }
    } while (!token.isEmpty());
    List<String> expected = new ArrayList<>(snapshot);
    java.util.Collections.reverse(expected);
    assertThat(backward).as("backward pass, seed %d", seed).containsExactlyElementsOf(expected);
  }

  private static void write(String thread, Random random, List<String> written, int n) {
    RandomWrites.write(gw, thread, random, written, n, 5);
  }
}
