package io.messagestore.server.read;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.SlowRepliesRedisProxy;
import io.messagestore.server.testing.TestGateway;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The first pages a gateway keeps (near cache views of a thread's recent index) never hide a
 * message from a reader who was told it was stored.
 */
class FirstPageCopyTest {
  /** Larger than any thread here: a first page is the whole thread. */
  static final int PAGE = 200;

  static String send(TestGateway gw, String thread, String content) {
    return gw.as("alice").withDeadlineAfter(30, TimeUnit.SECONDS).sendMessage(SendMessageRequest.newBuilder()
        .setThreadId(thread).setRole(Role.ROLE_USER).setContent(content).build()).getMessage().getMessageId();
  }

  static List<String> newestIds(TestGateway gw, String thread) {
    ListMessagesResponse page = gw.as("alice").withDeadlineAfter(30, TimeUnit.SECONDS).listMessages(
        ListMessagesRequest.newBuilder().setThreadId(thread).setNewestFirst(true).setPageSize(PAGE).build());
    assertThat(page.getServedFrom()).isEqualTo(Tier.TIER_REDIS);
    return page.getMessagesList().stream().map(Message::getMessageId).toList();
  }

  static double pagesFromCopies(TestGateway gw) {
    return gw.gateway().meters().get("messagestore.read.first.pages").tag("outcome", "served_from_copy").counter()
        .count();
  }

  static List<String> newestFirst(List<String> ids) {
    return ids.stream().sorted(Comparator.reverseOrder()).toList();
  }

  @Test
  void aMessageSentHereIsInTheNextFirstPageBeforeRedisSaysTheIndexChanged() throws Exception {
    // Everything Redis sends on the tracking connections, its invalidations too, arrives a
    // second late; the request path, which carries the sends, is not held back.
    try (SlowRepliesRedisProxy proxy = SlowRepliesRedisProxy.inFrontOfSharedRedis("TRACKING", Duration.ofSeconds(1));
        TestGateway gw = TestGateway.start(proxy.gatewaySettings(Map.of()))) {
      String thread = "first-page-" + UUID.randomUUID();
      List<String> sent = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        sent.add(send(gw, thread, "m" + i));
      }
      // Until the tracking connections are up, pages are read on the request path and not kept.
      Poll.until(Duration.ofSeconds(30), "a first page read where Redis tracks the index", () -> {
        assertThat(newestIds(gw, thread)).containsExactlyElementsOf(newestFirst(sent));
        return proxy.sentOnSlowConnections("ZREVRANGEBYLEX") > 0;
      });
      long tracked = proxy.sentOnSlowConnections("ZREVRANGEBYLEX");
      assertThat(newestIds(gw, thread)).containsExactlyElementsOf(newestFirst(sent));
      assertThat(proxy.sentOnSlowConnections("ZREVRANGEBYLEX")).as("served from the kept copy").isEqualTo(tracked);

      for (int i = 3; i < 6; i++) {
        sent.add(send(gw, thread, "m" + i));
        assertThat(newestIds(gw, thread)).containsExactlyElementsOf(newestFirst(sent));
      }
    }
  }

  @Test
  void aMessageSentThroughAnotherGatewayReachesThisOnesFirstPage() throws Exception {
    try (TestGateway reader = TestGateway.start(Map.of()); TestGateway writer = TestGateway.start(Map.of())) {
      String thread = "first-page-other-" + UUID.randomUUID();
      List<String> sent = new ArrayList<>();
      sent.add(send(writer, thread, "first"));
      // Until its tracking connections are up, the reader reads pages on the request path.
      Poll.until(Duration.ofSeconds(30), "the reader to answer the page from its kept copy", () -> {
        double before = pagesFromCopies(reader);
        assertThat(newestIds(reader, thread)).containsExactlyElementsOf(sent);
        return pagesFromCopies(reader) > before;
      });

      sent.add(send(writer, thread, "second"));

      // As fast as Redis's invalidation travels: no later than a read of the index would see it.
      Poll.until(Duration.ofSeconds(10), "the reader's first page to show the second message",
          () -> newestIds(reader, thread).equals(newestFirst(sent)));
    }
  }

  @Test
  void concurrentSendersThroughTwoGatewaysEachFindTheirMessageInTheirNextPage() throws Exception {
    // A Redis reply slower than the 100 ms default (a busy machine) sends a write around Redis, and
    // the thread's pages are then merged with PostgreSQL until its repair: not what this is about.
    Map<String, String> patient = Map.of("MESSAGESTORE_REDIS_TIMEOUT", "2s");
    try (TestGateway a = TestGateway.start(patient); TestGateway b = TestGateway.start(patient)) {
      String thread = "first-page-race-" + UUID.randomUUID();
      List<String> sent = new CopyOnWriteArrayList<>(List.of(send(a, thread, "claims the thread")));
      AtomicBoolean writing = new AtomicBoolean(true);
      ExecutorService pool = Executors.newFixedThreadPool(6);
      try {
        List<Future<?>> tasks = new ArrayList<>();
        for (TestGateway gw : List.of(a, b, a, b)) {
          tasks.add(pool.submit(() -> {
            for (int i = 0; i < 30; i++) {
              String id = send(gw, thread, "m" + i);
              sent.add(id);
              // The gateway that acknowledged it has it in its very next page.
              assertThat(newestIds(gw, thread)).contains(id);
            }
            return null;
          }));
        }
        // Pure readers keep pages kept (and their fills racing with the sends).
        for (TestGateway gw : List.of(a, b)) {
          pool.submit(() -> {
            while (writing.get()) {
              newestIds(gw, thread);
            }
            return null;
          });
        }
        for (Future<?> t : tasks) {
          t.get(120, TimeUnit.SECONDS);
        }
      } finally {
        writing.set(false);
        pool.shutdown();
        assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
      }

      for (TestGateway gw : List.of(a, b)) {
        Poll.until(Duration.ofSeconds(10), "every message in the first page",
            () -> newestIds(gw, thread).equals(newestFirst(sent)));
      }
    }
  }
}
