package io.messagestore.server.write;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.ManagedChannel;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.GatewayProcess;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiersExtension;
import io.messagestore.server.testing.Tokens;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** kill -9 of a gateway process in the middle of heavy sending. */
class GatewayCrashTest {
  @RegisterExtension
  static final PrivateTiersExtension tiers = new PrivateTiersExtension();

  @Test
  void acknowledgedMessagesSurviveGatewayKill() throws Exception {
    Map<String, String> settings = tiers.get().settings(Map.of(
        "MESSAGESTORE_PENDING_CLAIM_TIMEOUT", "1s",
        // Small batches and a slow-ish commit cadence keep entries in flight at the kill.
        "MESSAGESTORE_PERSISTER_BATCH_SIZE", "50"));
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    AtomicInteger failed = new AtomicInteger();
    int warmedUp;
    int total = 2000;
    CountDownLatch finished = new CountDownLatch(total);
    CountDownLatch someAcked = new CountDownLatch(300);
    List<String> threads = java.util.stream.IntStream.range(0, 20).mapToObj(i -> "crash-" + UUID.randomUUID()).toList();

    try (GatewayProcess first = GatewayProcess.startServing(settings)) {
      ManagedChannel ch = first.channel();
      MessageStoreGrpc.MessageStoreFutureStub stub = MessageStoreGrpc.newFutureStub(ch)
          .withCallCredentials(Tokens.bearer(Tokens.user("alice")));
      // A gateway in service is warm: create the threads and let the JIT compile the send path.
      for (int round = 0; round < 10; round++) {
        List<com.google.common.util.concurrent.ListenableFuture<SendMessageResponse>> warm = new java.util.ArrayList<>();
        for (String t : threads) {
          warm.add(stub.withDeadlineAfter(30, TimeUnit.SECONDS).sendMessage(SendMessageRequest.newBuilder()
              .setThreadId(t).setRole(Role.ROLE_USER).setContent("warm-up").build()));
        }
        for (var f : warm) {
          acknowledged.add(f.get(30, TimeUnit.SECONDS).getMessage().getMessageId());
        }
      }
      warmedUp = acknowledged.size();
      for (int i = 0; i < total; i++) {
        SendMessageRequest req = SendMessageRequest.newBuilder().setThreadId(threads.get(i % threads.size()))
            .setRole(Role.ROLE_USER).setContent("crash payload " + i).build();
        Futures.addCallback(stub.withDeadlineAfter(30, TimeUnit.SECONDS).sendMessage(req), new FutureCallback<>() {
          @Override
          public void onSuccess(SendMessageResponse r) {
            acknowledged.add(r.getMessage().getMessageId());
            someAcked.countDown();
            finished.countDown();
          }

          @Override
          public void onFailure(Throwable t) {
            failed.incrementAndGet();
            finished.countDown();
          }
        }, MoreExecutors.directExecutor());
      }
      assertThat(someAcked.await(60, TimeUnit.SECONDS)).as("300 sends acknowledged before the kill").isTrue();
      first.kill9();
      assertThat(finished.await(60, TimeUnit.SECONDS)).isTrue();
      ch.shutdownNow();
    }
    // Some calls were cut off by the kill; every one that was answered must be kept.
    assertThat(acknowledged.size() - warmedUp + failed.get()).isEqualTo(total);
    assertThat(failed.get()).as("sends cut off by the kill").isPositive();

    try (GatewayProcess second = GatewayProcess.startServing(settings)) {
      Poll.until(Duration.ofSeconds(60), acknowledged.size() + " acknowledged messages in postgres", () -> {
        try {
          return Databases.rowCounts(tiers.get().settings(Map.of()), acknowledged).size() == acknowledged.size();
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      Map<String, Integer> counts = Databases.rowCounts(tiers.get().settings(Map.of()), acknowledged);
      assertThat(counts.values()).allMatch(c -> c == 1);
      // Thread counters moved once per stored row: no double insert after redelivery. Sends cut
      // off by the kill may still be committing, so counter and rows are read in one statement
      // (one snapshot).
      long stored = 0;
      for (String t : threads) {
        assertThat(Databases.count(tiers.get().settings(Map.of()), "SELECT coalesce((SELECT message_count FROM threads"
            + " WHERE thread_id = ?), 0) - (SELECT count(*) FROM messages WHERE thread_id = ?)", t, t))
            .as("message_count minus stored rows of " + t).isZero();
        stored += Databases.count(tiers.get().settings(Map.of()), "SELECT count(*) FROM messages WHERE thread_id = ?", t);
      }
      assertThat(stored).isGreaterThanOrEqualTo(acknowledged.size());
    }
  }
}
