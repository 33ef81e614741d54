package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Role;
import io.lettuce.core.RedisClient;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.FreePorts;
import io.messagestore.server.testing.LocalTiers;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.SlowRepliesRedisProxy;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The SDK against real gateways in processes of their own, on the real tiers: what its retries,
 * resuming watches, load balancing and run-state updates promise when a gateway dies.
 */
class AgainstGatewayProcessesTest {
  private static final Duration LONG = Duration.ofSeconds(120);
  /** Patient enough to outlast a gateway's restart on a busy 2-core machine. */
  private static final RetryPolicy ACROSS_RESTARTS = RetryPolicy.builder().maxAttempts(1_000)
      .initialBackoff(Duration.ofMillis(50)).maxBackoff(Duration.ofMillis(500))
      .totalDeadline(Duration.ofSeconds(120)).build();

  private static MessageStoreClient client(String target, String user, MessageStoreMetrics metrics) {
    return MessageStoreClient.builder().target(target).plaintext()
        .tokenSupplier(() -> Tokens.user(user))
        .options(MessageStoreClientOptions.builder()
            .retryPolicy(CallType.SEND, ACROSS_RESTARTS)
            .retryPolicy(CallType.READ, ACROSS_RESTARTS)
            .retryPolicy(CallType.WATCH_RESUME, MessageStoreClientOptions.DEFAULT_WATCH_RESUME.toBuilder()
                .initialBackoff(Duration.ofMillis(50)).maxBackoff(Duration.ofMillis(500)).build())
            .metrics(metrics)
            .build())
        .build();
  }

  private static String thread(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @Test
  void aSendRetriedAcrossAGatewayKillIsStoredOnce() throws Exception {
    int port = FreePorts.next();
    String thread = thread("sdk-kill");
    AtomicInteger retries = new AtomicInteger();
    MessageStoreMetrics counting = new MessageStoreMetrics() {
      @Override
      public void retrying(String rpc, Status.Code code, Duration backoff) {
        retries.incrementAndGet();
      }
    };
    // A Redis reply slower than the default 100 ms on a busy machine would send the retry around
    // Redis, to PostgreSQL, which cannot see the first attempt still waiting in Redis: stored
    // twice, the edge ARCHITECTURE documents ("Idempotency across a Redis outage"). This test is
    // about the kill, with Redis healthy.
    Map<String, String> restarted = TestGateway.settings(Map.of("MESSAGESTORE_PENDING_CLAIM_TIMEOUT", "2s",
        "MESSAGESTORE_REDIS_TIMEOUT", "2s"));
    // The first gateway's Redis replies to the send's script are held back: the message is in
    // Redis, the answer is not on its way when the gateway is killed.
    try (SlowRepliesRedisProxy proxy = SlowRepliesRedisProxy.inFrontOfSharedRedis("EVALSHA", Duration.ofSeconds(4));
        MessageStoreClient client = client("127.0.0.1:" + port, "sdk-alice", counting)) {
      proxy.sentOnSlowConnections("EVALSHA");
      GatewayInstance first = GatewayInstance.startServing(TestGateway.settings(proxy.gatewaySettings(Map.of())), port);
      GatewayInstance second = null;
      try {
        // No key of the caller's: the SDK makes one for the logical send and keeps it for every attempt.
        CompletableFuture<SendMessageResponse> send = client.async().send(SendMessageRequest.newBuilder()
            .setThreadId(thread).setRole(Role.ROLE_USER).setContent("once").build());
        Poll.until(Duration.ofSeconds(30), "the send's idempotency key in Redis",
            () -> !redisKeys("ms:*:t:" + thread + ":idem:*").isEmpty());
        first.kill9();
        second = GatewayInstance.startServing(restarted, port);

        SendMessageResponse answer = send.get(LONG.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);

        assertThat(retries.get()).as("retries").isPositive();
        assertThat(answer.getDuplicate()).as("the retry found the first attempt's message").isTrue();
        List<Message> stored = client.messages(thread).toList();
        assertThat(stored).extracting(Message::getMessageId).containsExactly(answer.getMessage().getMessageId());
        Poll.until(LONG, "the message in PostgreSQL", () -> count(restarted, thread) >= 1);
        assertThat(count(restarted, thread)).isEqualTo(1);
      } catch (AssertionError | Exception e) {
        throw withLogs(e, first, second);
      } finally {
        first.close();
        if (second != null) {
          second.close();
        }
      }
    }
  }

  /** {@code failure} with the gateways' logs, which tell what each attempt of a send met. */
  private static AssertionError withLogs(Throwable failure, GatewayInstance... gateways) {
    StringBuilder logs = new StringBuilder(String.valueOf(failure.getMessage()));
    for (int i = 0; i < gateways.length; i++) {
      if (gateways[i] != null) {
        logs.append("\n--- gateway ").append(i + 1).append(" ---\n").append(gateways[i].output());
      }
    }
    return new AssertionError(logs.toString(), failure);
  }

  private static List<String> redisKeys(String pattern) {
    RedisClient redis = RedisClient.create(LocalTiers.shared().get("MESSAGESTORE_REDIS_URI"));
    try (var connection = redis.connect()) {
      return connection.sync().keys(pattern);
    } finally {
      redis.shutdown();
    }
  }

  private static long count(Map<String, String> settings, String thread) {
    try {
      return Databases.count(settings, "SELECT count(*) FROM messages WHERE thread_id = ?", thread);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Collects a watch's MESSAGE_CONFIRMED ids. */
  static final class Confirmed implements Flow.Subscriber<ThreadEvent> {
    final List<String> ids = new CopyOnWriteArrayList<>();
    final CompletableFuture<Void> end = new CompletableFuture<>();

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(ThreadEvent event) {
      if (event.getType() == ThreadEvent.Type.MESSAGE_CONFIRMED) {
        ids.add(event.getMessageId());
      }
    }

    @Override
    public void onError(Throwable failure) {
      end.completeExceptionally(failure);
    }

    @Override
    public void onComplete() {
      end.complete(null);
    }
  }

  @Test
  void aWatchSurvivesAGatewayRestartAndDeliversEveryMessageOnceInOrder() throws Exception {
    int port = FreePorts.next();
    String thread = thread("sdk-watch");
    AtomicInteger resumes = new AtomicInteger();
    MessageStoreMetrics counting = new MessageStoreMetrics() {
      @Override
      public void watchResuming(Status.Code code) {
        resumes.incrementAndGet();
      }
    };
    Map<String, String> settings = TestGateway.settings(Map.of("MESSAGESTORE_REDIS_TIMEOUT", "2s"));
    // Messages go in through a second gateway, which stays up the whole time.
    try (TestGateway sender = TestGateway.start(Map.of("MESSAGESTORE_REDIS_TIMEOUT", "2s"));
        MessageStoreClient sending = client("127.0.0.1:" + sender.gateway().port(), "sdk-bob", MessageStoreMetrics.NONE);
        MessageStoreClient watching = client("127.0.0.1:" + port, "sdk-bob", counting)) {
      String first = sending.send(thread, Role.ROLE_USER, "before the watch").getMessage().getMessageId();
      List<String> sent = new ArrayList<>();
      GatewayInstance watched = GatewayInstance.startServing(settings, port);
      GatewayInstance restarted = null;
      ExecutorService reader = Executors.newSingleThreadExecutor();
      try (ThreadWatch blocking = watching.watch(thread, first)) {
        Confirmed async = new Confirmed();
        watching.async().watch(thread, first).subscribe(async);
        List<String> blockingIds = new CopyOnWriteArrayList<>();
        reader.submit(() -> {
          while (blocking.hasNext()) {
            ThreadEvent e = blocking.next();
            if (e.getType() == ThreadEvent.Type.MESSAGE_CONFIRMED) {
              blockingIds.add(e.getMessageId());
            }
          }
          return null;
        });
        for (int i = 0; i < 10; i++) {
          sent.add(sending.send(thread, Role.ROLE_USER, "live " + i).getMessage().getMessageId());
        }
        Poll.until(LONG, "the first ten on both watches",
            () -> async.ids.size() >= 10 && blockingIds.size() >= 10);

        watched.kill9();
        for (int i = 0; i < 10; i++) {
          sent.add(sending.send(thread, Role.ROLE_USER, "while down " + i).getMessage().getMessageId());
        }
        restarted = GatewayInstance.startServing(settings, port);
        for (int i = 0; i < 10; i++) {
          sent.add(sending.send(thread, Role.ROLE_USER, "after " + i).getMessage().getMessageId());
        }

        Poll.until(LONG, "all thirty on both watches",
            () -> async.ids.size() >= 30 && blockingIds.size() >= 30);
        assertThat(async.ids).containsExactlyElementsOf(sent);
        assertThat(blockingIds).containsExactlyElementsOf(sent);
        assertThat(blocking.reconnects()).isPositive();
        assertThat(resumes.get()).isGreaterThanOrEqualTo(2);
        assertThat(async.end).isNotDone();
      } finally {
        reader.shutdownNow();
        watched.close();
        if (restarted != null) {
          restarted.close();
        }
      }
    }
  }

  @Test
  void roundRobinMovesCallsOffAStoppedInstance() throws Exception {
    Map<String, String> settings = TestGateway.settings(Map.of());
    String thread = thread("sdk-rr");
    try (GatewayInstance a = GatewayInstance.startServing(settings, FreePorts.next());
        GatewayInstance b = GatewayInstance.startServing(settings, FreePorts.next());
        MessageStoreClient client = client(a.target() + "," + b.target(), "sdk-carol", MessageStoreMetrics.NONE)) {
      Poll.until(Duration.ofSeconds(30), "sends on both instances", () -> {
        client.send(thread, Role.ROLE_USER, "spread");
        return a.served("SendMessage") > 0 && b.served("SendMessage") > 0;
      });
      // Sends go on while A stops: none of them may fail.
      List<Throwable> failures = new CopyOnWriteArrayList<>();
      AtomicInteger during = new AtomicInteger();
      java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean(true);
      CompletableFuture<Void> background = CompletableFuture.runAsync(() -> {
        while (stopping.get()) {
          try {
            client.send(thread, Role.ROLE_USER, "while a stops");
            during.incrementAndGet();
          } catch (RuntimeException e) {
            failures.add(e);
          }
        }
      });
      a.terminate();
      Poll.until(Duration.ofSeconds(60), "a to exit", () -> !a.isAlive());
      stopping.set(false);
      background.get(60, java.util.concurrent.TimeUnit.SECONDS);
      long bBefore = b.served("SendMessage");

      // Without retries, on the same channel: a call the balancer still gave to A would fail, so
      // these prove that health checking took A out, not that retries hid it.
      MessageStoreClient once = MessageStoreClient.create(client.channel(), () -> Tokens.user("sdk-carol"),
          MessageStoreClientOptions.builder().noRetries().build());
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        ids.add(once.send(thread, Role.ROLE_USER, "after a stopped " + i).getMessage().getMessageId());
      }

      assertThat(failures).isEmpty();
      assertThat(during.get()).isPositive();
      assertThat(ids).hasSize(30).doesNotHaveDuplicates();
      assertThat(b.served("SendMessage") - bBefore).isEqualTo(30);
    }
  }

  @Test
  void updateRunStateFromTenThreadsLosesNoUpdate() throws Exception {
    String runId = thread("sdk-run");
    try (GatewayInstance gateway = GatewayInstance.startServing(TestGateway.settings(Map.of()), FreePorts.next());
        MessageStoreClient client = MessageStoreClient.builder().target(gateway.target()).plaintext()
            .tokenSupplier(() -> Tokens.user("sdk-dave"))
            .options(MessageStoreClientOptions.builder().runStateUpdateAttempts(10_000).build())
            .build()) {
      client.updateRunState(runId, AgainstGatewayProcessesTest::increment);
      ExecutorService threads = Executors.newFixedThreadPool(10);
      try {
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int t = 0; t < 10; t++) {
          done.add(CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 10; i++) {
              client.updateRunState(runId, AgainstGatewayProcessesTest::increment);
            }
          }, threads));
        }
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(LONG.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
      } finally {
        threads.shutdownNow();
      }

      var end = client.getRunState(runId, 0).getRunState();
      assertThat(end.getState().toString(StandardCharsets.UTF_8)).isEqualTo("101");
      assertThat(end.getVersion()).isEqualTo(101);
    }
  }

  static byte[] increment(byte[] state) {
    long n = state == null ? 0 : Long.parseLong(new String(state, StandardCharsets.UTF_8));
    return Long.toString(n + 1).getBytes(StandardCharsets.UTF_8);
  }
}
