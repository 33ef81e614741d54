package io.messagestore.server.watch;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Status;
import io.messagestore.api.v1.DeleteThreadRequest;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** WatchThread across two gateway instances on the shared tiers. */
class WatchThreadTest {
  private static TestGateway a;
  private static TestGateway b;

  @BeforeAll
  static void start() throws Exception {
    // Redis slower than the 100 ms default on a busy machine would send writes around it, and
    // those come late and out of order (ARCHITECTURE, known limits): these tests are about order.
    a = TestGateway.start(Map.of("MESSAGESTORE_REDIS_TIMEOUT", "2s"));
    b = TestGateway.start(Map.of("MESSAGESTORE_MAX_WATCHERS", "20", "MESSAGESTORE_REDIS_TIMEOUT", "2s"));
  }

  @AfterAll
  static void stop() {
    a.close();
    b.close();
  }

  static MessageStoreGrpc.MessageStoreStub watcherStub(TestGateway g, String user) {
    return MessageStoreGrpc.newStub(g.channel()).withCallCredentials(Tokens.bearer(Tokens.user(user)));
  }

  static String send(TestGateway g, String user, String thread, String content) {
    return g.as(user).sendMessage(SendMessageRequest.newBuilder().setThreadId(thread).setRole(Role.ROLE_USER)
        .setContent(content).build()).getMessage().getMessageId();
  }

  /** Every message id of the thread, in ListMessages' order. */
  static List<String> listed(TestGateway g, String user, String thread) {
    List<String> ids = new ArrayList<>();
    String token = "";
    do {
      ListMessagesResponse page = g.as(user).listMessages(ListMessagesRequest.newBuilder().setThreadId(thread)
          .setPageSize(1000).setPageToken(token).build());
      page.getMessagesList().forEach(m -> ids.add(m.getMessageId()));
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return ids;
  }

  /** Waits until the gateway has the watch open (its start position is then fixed). */
  static void awaitOpen(TestGateway g, int watches) {
    Poll.until(Duration.ofSeconds(10), watches + " open watches", () ->
        g.gateway().meters().get("messagestore.watch.active").gauge().value() >= watches);
  }

  @Test
  void messagesSentThroughOneGatewayReachAWatcherOnAnotherExactlyOnceInOrderAcrossAResume() throws Exception {
    String thread = "watched-" + UUID.randomUUID();
    String first = send(a, "alice", thread, "before the watch");
    int open = (int) b.gateway().meters().get("messagestore.watch.active").gauge().value();
    Watcher early = Watcher.start(watcherStub(b, "alice"), thread, "");
    awaitOpen(b, open + 1);

    MessageStoreGrpc.MessageStoreFutureStub sender = a.asyncAs("alice");
    CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
      for (int burst = 0; burst < 10; burst++) {
        List<ListenableFuture<SendMessageResponse>> calls = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          calls.add(sender.withDeadlineAfter(30, TimeUnit.SECONDS).sendMessage(SendMessageRequest.newBuilder()
              .setThreadId(thread).setRole(Role.ROLE_ASSISTANT).setContent("burst " + burst + " #" + i).build()));
        }
        for (ListenableFuture<SendMessageResponse> c : calls) {
          try {
            c.get();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }
      }
    });
    early.awaitEvents(Duration.ofSeconds(30), "300 messages", w -> w.confirmedIds().size() >= 300);
    early.cancel();
    assertThat(early.awaitEnd(Duration.ofSeconds(10)).getCode()).isEqualTo(Status.Code.CANCELLED);
    List<String> seenBefore = early.confirmedIds();
    Watcher resumed = Watcher.start(watcherStub(a, "alice"), thread, seenBefore.get(seenBefore.size() - 1));
    sending.get(60, TimeUnit.SECONDS);

    List<String> all = listed(a, "alice", thread);
    assertThat(all).hasSize(1001).startsWith(first);
    resumed.awaitEvents(Duration.ofSeconds(30), "the rest of the 1000",
        w -> seenBefore.size() + w.confirmedIds().size() >= 1000);
    List<String> seen = new ArrayList<>(seenBefore);
    seen.addAll(resumed.confirmedIds());
    assertThat(seen).containsExactlyElementsOf(all.subList(1, all.size()));
    assertThat(early.of(ThreadEvent.Type.MESSAGE_CONFIRMED)).allSatisfy(e -> {
      assertThat(e.getMessage().getThreadId()).isEqualTo(thread);
      assertThat(e.getMessage().getContent()).startsWith("burst ");
    });
    resumed.cancel();
  }

  @Test
  void aGatewayWhoseClockIsBehindStillAddsItsMessagesAfterTheThreadsNewest() throws Exception {
    String thread = "skewed-" + UUID.randomUUID();
    try (TestGateway late = TestGateway.start(Map.of("MESSAGESTORE_REDIS_TIMEOUT", "2s"),
        Clock.offset(Clock.systemUTC(), Duration.ofSeconds(-30)))) {
      List<String> sent = new ArrayList<>();
      Watcher w = null;
      for (int i = 0; i < 10; i++) {
        sent.add(send(i % 2 == 0 ? a : late, "alice", thread, "turn " + i));
        if (i == 0) {
          w = Watcher.start(watcherStub(late, "alice"), thread, sent.get(0));
        }
      }
      // Sent one after the other, listed in that order although half the ids were minted 30 s "earlier".
      assertThat(listed(a, "alice", thread)).containsExactlyElementsOf(sent);
      Watcher watcher = w;
      watcher.awaitEvents(Duration.ofSeconds(10), "9 messages", x -> x.confirmedIds().size() >= 9);
      assertThat(watcher.confirmedIds()).containsExactlyElementsOf(sent.subList(1, sent.size()));
      watcher.cancel();
    }
  }

  @Test
  void everyConfirmedMessageIsFollowedByItsPersistedEvent() {
    String thread = "persisted-" + UUID.randomUUID();
    send(a, "alice", thread, "start");
    Watcher w = Watcher.start(watcherStub(b, "alice"), thread, "");
    awaitOpen(b, 1);
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      sent.add(send(a, "alice", thread, "m" + i));
    }
    w.awaitEvents(Duration.ofSeconds(30), "20 persisted events", x -> x.of(ThreadEvent.Type.MESSAGE_PERSISTED).size() >= 20);
    assertThat(w.confirmedIds()).containsExactlyElementsOf(sent);
    List<String> persisted = w.of(ThreadEvent.Type.MESSAGE_PERSISTED).stream().map(ThreadEvent::getMessageId).toList();
    assertThat(persisted).containsExactlyInAnyOrderElementsOf(sent);
    for (String id : sent) {
      assertThat(w.indexOf(ThreadEvent.Type.MESSAGE_CONFIRMED, id)).isNotNegative()
          .isLessThan(w.indexOf(ThreadEvent.Type.MESSAGE_PERSISTED, id));
    }
    w.cancel();
  }

  @Test
  void deleteThreadEndsItsWatchesWithThreadDeleted() {
    String thread = "deleted-" + UUID.randomUUID();
    send(a, "alice", thread, "soon gone");
    Watcher onB = Watcher.start(watcherStub(b, "alice"), thread, "");
    Watcher onA = Watcher.start(watcherStub(a, "alice"), thread, "");
    awaitOpen(a, 1);
    awaitOpen(b, 1);

    a.as("alice").deleteThread(DeleteThreadRequest.newBuilder().setThreadId(thread).build());

    for (Watcher w : List.of(onA, onB)) {
      assertThat(w.awaitEnd(Duration.ofSeconds(10)).getCode()).isEqualTo(Status.Code.OK);
      assertThat(w.events).last().extracting(ThreadEvent::getType).isEqualTo(ThreadEvent.Type.THREAD_DELETED);
    }
  }

  @Test
  void watchesAreForTheOwnerOrAnAdminOfAThreadThatExists() {
    String thread = "owned-" + UUID.randomUUID();
    String id = send(a, "alice", thread, "private");

    assertThat(Watcher.start(watcherStub(b, "mallory"), thread, "").awaitEnd(Duration.ofSeconds(10)))
        .satisfies(s -> assertThat(s.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThat(Watcher.start(watcherStub(b, "alice"), "never-" + UUID.randomUUID(), "").awaitEnd(Duration.ofSeconds(10)))
        .satisfies(s -> assertThat(s.getCode()).isEqualTo(Status.Code.NOT_FOUND));
    Status bad = Watcher.start(watcherStub(b, "alice"), thread, "not-an-id").awaitEnd(Duration.ofSeconds(10));
    assertThat(bad.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(bad.getDescription()).contains("after_message_id");

    Watcher admin = Watcher.start(MessageStoreGrpc.newStub(b.channel())
        .withCallCredentials(Tokens.bearer(Tokens.admin("ops"))), thread, "00000000-0000-0000-0000-000000000000");
    admin.awaitEvents(Duration.ofSeconds(10), "the thread's message", w -> w.confirmedIds().contains(id));
    admin.cancel();
  }

  @Test
  void watchesPastTheInstanceLimitAreRefusedWithResourceExhausted() {
    String thread = "crowded-" + UUID.randomUUID();
    send(a, "alice", thread, "popular");
    List<Watcher> watchers = new ArrayList<>();
    Status refused = null;
    for (int i = 0; i < 21 && refused == null; i++) {
      Watcher w = Watcher.start(watcherStub(b, "alice"), thread, "");
      watchers.add(w);
      if (i == 20) {
        refused = w.awaitEnd(Duration.ofSeconds(10));
      } else {
        awaitOpen(b, i + 1);
      }
    }
    assertThat(refused.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(refused.getDescription()).contains("MESSAGESTORE_MAX_WATCHERS");
    watchers.forEach(Watcher::cancel);
    Poll.until(Duration.ofSeconds(10), "cancelled watches to close",
        () -> b.gateway().meters().get("messagestore.watch.active").gauge().value() == 0);
  }
}
