package io.messagestore.server.watch;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageBatchRequest;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.server.testing.GatewayProcess;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** WatchThread against gateway processes: a small heap, SIGTERM. */
class WatchProcessTest {

  private static MessageStoreGrpc.MessageStoreBlockingStub blocking(ManagedChannel ch) {
    return MessageStoreGrpc.newBlockingStub(ch).withCallCredentials(Tokens.bearer(Tokens.user("alice")))
        .withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  private static MessageStoreGrpc.MessageStoreStub async(ManagedChannel ch) {
    return MessageStoreGrpc.newStub(ch).withCallCredentials(Tokens.bearer(Tokens.user("alice")));
  }

  private static String send(ManagedChannel ch, String thread, String content) {
    return blocking(ch).sendMessage(SendMessageRequest.newBuilder().setThreadId(thread).setRole(Role.ROLE_USER)
        .setContent(content).build()).getMessage().getMessageId();
  }

  @Test
  void watchersThatStopReadingDoNotGrowTheHeapAndGetEverythingOnceTheyReadAgain() throws Exception {
    // 5 watchers x 40 MB would not fit in this heap if the gateway queued for them.
    try (GatewayProcess gateway = GatewayProcess.startServing(
        TestGateway.settings(Map.of("MESSAGESTORE_REDIS_TIMEOUT", "2s")), "160m")) {
      ManagedChannel ch = gateway.channel();
      String thread = "unread-" + UUID.randomUUID();
      String first = send(ch, thread, "start");
      List<Watcher> stalled = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        stalled.add(Watcher.start(async(ch), thread, first, false));
      }
      String content = "x".repeat(2048);
      List<String> sent = new ArrayList<>();
      for (int batch = 0; batch < 200; batch++) {
        SendMessageBatchRequest.Builder b = SendMessageBatchRequest.newBuilder().setThreadId(thread);
        for (int i = 0; i < 100; i++) {
          b.addMessages(SendMessageRequest.newBuilder().setRole(Role.ROLE_ASSISTANT).setContent(content));
        }
        blocking(ch).sendMessageBatch(b.build()).getResultsList().forEach(r -> sent.add(r.getMessage().getMessageId()));
      }

      assertThat(send(ch, thread, "still answering")).isNotEmpty();
      sent.add(sent.size(), blocking(ch).listMessages(io.messagestore.api.v1.ListMessagesRequest.newBuilder()
          .setThreadId(thread).setNewestFirst(true).setPageSize(1).build()).getMessages(0).getMessageId());
      for (Watcher w : stalled) {
        w.read();
      }
      for (Watcher w : stalled) {
        w.awaitEvents(Duration.ofSeconds(120), "all 20,001 messages", x -> x.confirmedIds().size() >= sent.size());
        assertThat(w.confirmedIds()).containsExactlyElementsOf(sent);
        w.cancel();
      }
      assertThat(gateway.process().isAlive()).as("gateway alive:\n%s", gateway.output()).isTrue();
    }
  }

  @Test
  void sigtermEndsWatchesWithUnavailableWithinTheShutdownGrace() throws Exception {
    Map<String, String> settings = TestGateway.settings(Map.of("MESSAGESTORE_SHUTDOWN_GRACE", "20s"));
    try (GatewayProcess gateway = GatewayProcess.startServing(settings)) {
      ManagedChannel ch = gateway.channel();
      String thread = "stopping-" + UUID.randomUUID();
      String first = send(ch, thread, "before");
      Watcher w = Watcher.start(async(ch), thread, first);
      String live = send(ch, thread, "live");
      w.awaitEvents(Duration.ofSeconds(10), "the live message", x -> x.confirmedIds().contains(live));

      gateway.terminate();

      // Well inside the 20 s grace: watches do not hold the shutdown up.
      Status ended = w.awaitEnd(Duration.ofSeconds(10));
      assertThat(ended.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(ended.getDescription()).contains("shutting down").contains("after_message_id");
      assertThat(gateway.process().waitFor(20, TimeUnit.SECONDS)).isTrue();
    }
  }
}
