package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.messagestore.api.v1.PutRunStateRequest;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The retry rules, against the in-process fake: what is repeated, how often, with which key. */
class RetriesTest {
  private static final RetryPolicy FAST = RetryPolicy.builder()
      .maxAttempts(4).initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(5)).build();

  private InProcessGateway gateway;
  private final Queue<String> events = new ConcurrentLinkedQueue<>();
  private final MessageStoreMetrics recording = new MessageStoreMetrics() {
    @Override
    public void callEnded(String rpc, Status.Code code, Duration duration, int attempts) {
      events.add("ended " + rpc + " " + code + " after " + attempts);
    }

    @Override
    public void retrying(String rpc, Status.Code code, Duration backoff) {
      events.add("retrying " + rpc + " " + code);
    }
  };

  @BeforeEach
  void start() throws Exception {
    gateway = new InProcessGateway();
  }

  @AfterEach
  void stop() throws Exception {
    gateway.close();
  }

  private MessageStoreClient client(MessageStoreClientOptions.Builder options) {
    return MessageStoreClient.create(gateway.channel, () -> "jwt", options.metrics(recording).build());
  }

  private MessageStoreClient fastRetries() {
    MessageStoreClientOptions.Builder options = MessageStoreClientOptions.builder();
    for (CallType type : CallType.values()) {
      options.retryPolicy(type, FAST);
    }
    return client(options);
  }

  @Test
  void aRetriedSendCarriesTheSameIdempotencyKeyInEveryAttempt() {
    gateway.store.failFirst.set(2);

    SendMessageResponse sent = fastRetries().send("t", Role.ROLE_USER, "hi");

    List<String> keys = gateway.store.sendRequests.stream().map(SendMessageRequest::getIdempotencyKey).toList();
    assertThat(keys).hasSize(3).doesNotContain("").containsOnly(keys.get(0));
    assertThat(sent.getMessage().getMessageId()).isEqualTo("m-" + keys.get(0));
    assertThat(events).containsExactly("retrying SendMessage UNAVAILABLE", "retrying SendMessage UNAVAILABLE",
        "ended SendMessage OK after 3");
  }

  @Test
  void aCallersKeyIsKeptAcrossAttempts() {
    gateway.store.failFirst.set(1);

    fastRetries().send(SendMessageRequest.newBuilder().setThreadId("t").setRole(Role.ROLE_USER)
        .setContent("hi").setIdempotencyKey("mine").build());

    assertThat(gateway.store.sendRequests).extracting(SendMessageRequest::getIdempotencyKey)
        .containsExactly("mine", "mine");
  }

  @Test
  void aSendWithoutKeyIsNotRetriedBecauseARepeatCouldStoreItTwice() {
    gateway.store.failFirst.set(1);
    MessageStoreClient client = client(MessageStoreClientOptions.builder()
        .autoIdempotencyKeys(false).retryPolicy(CallType.SEND, FAST));

    assertThatThrownBy(() -> client.send("t", Role.ROLE_USER, "hi"))
        .isInstanceOfSatisfying(MessageStoreException.class, e -> {
          assertThat(e.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.wasRetried()).isFalse();
          assertThat(e.getAttempts()).isEqualTo(1);
        });
    assertThat(gateway.store.sendRequests).hasSize(1);
  }

  @Test
  void aBatchIsRetriedWithTheSameKeyPerMessage() {
    gateway.store.failFirst.set(1);

    fastRetries().sendBatch("t", List.of(
        SendMessageRequest.newBuilder().setRole(Role.ROLE_USER).setContent("a").build(),
        SendMessageRequest.newBuilder().setRole(Role.ROLE_USER).setContent("b").build()));

    assertThat(gateway.store.batchRequests).hasSize(2);
    List<String> first = gateway.store.batchRequests.peek().getMessagesList().stream()
        .map(SendMessageRequest::getIdempotencyKey).toList();
    assertThat(gateway.store.batchRequests).allSatisfy(b -> assertThat(b.getMessagesList())
        .extracting(SendMessageRequest::getIdempotencyKey).containsExactlyElementsOf(first));
    assertThat(first).doesNotHaveDuplicates().doesNotContain("");
  }

  @Test
  void aReadThatKeepsFailingEndsAfterMaxAttemptsAndSaysHowOftenItWasTried() {
    gateway.store.failWith = Status.UNAVAILABLE.withDescription("no tier can take the call");

    assertThatThrownBy(() -> fastRetries().get("t", "m-1"))
        .isInstanceOfSatisfying(MessageStoreException.class, e -> {
          assertThat(e.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getAttempts()).isEqualTo(4);
          assertThat(e.wasRetried()).isTrue();
        })
        .hasMessage("GetMessage failed: UNAVAILABLE: no tier can take the call (after 4 attempts)");
  }

  @Test
  void resourceExhaustedIsRetriedButPermissionDeniedIsNot() {
    gateway.store.failFirst.set(1);
    gateway.store.failFirstWith = Status.RESOURCE_EXHAUSTED.withDescription("backlog bound");
    assertThat(fastRetries().send("t", Role.ROLE_USER, "hi").hasMessage()).isTrue();

    gateway.store.failWith = Status.PERMISSION_DENIED.withDescription("not yours");
    assertThatThrownBy(() -> fastRetries().send("t", Role.ROLE_USER, "hi"))
        .isInstanceOfSatisfying(MessageStoreException.class, e -> assertThat(e.getAttempts()).isEqualTo(1));
    assertThat(gateway.store.sendRequests).hasSize(3);
  }

  @Test
  void runStateWritesAreNotRetriedByDefault() {
    gateway.store.failFirst.set(1);
    MessageStoreClient client = client(MessageStoreClientOptions.builder());

    assertThatThrownBy(() -> client.putRunState(PutRunStateRequest.newBuilder().setRunId("r").build()))
        .isInstanceOfSatisfying(MessageStoreException.class, e -> assertThat(e.wasRetried()).isFalse());
    assertThat(gateway.store.putRunStateRequests).hasSize(1);
  }

  @Test
  void theTotalDeadlineEndsRetriesOfAttemptsThatTimeOut() {
    gateway.store.neverAnswer = true;
    MessageStoreClient client = client(MessageStoreClientOptions.builder()
        .deadline(Duration.ofMillis(100))
        .retryPolicy(CallType.READ, FAST.toBuilder().maxAttempts(100)
            .totalDeadline(Duration.ofMillis(350)).build()));

    long start = System.nanoTime();
    assertThatThrownBy(() -> client.get("t", "m-1"))
        .isInstanceOfSatisfying(MessageStoreException.class, e -> {
          assertThat(e.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
          assertThat(e.getAttempts()).isBetween(2, 4);
        });
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
  }

  @Test
  void cancellingAnAsyncCallStopsItsRetries() throws Exception {
    gateway.store.failWith = Status.UNAVAILABLE;
    MessageStoreClient client = client(MessageStoreClientOptions.builder().retryPolicy(CallType.READ,
        RetryPolicy.builder().unlimitedAttempts().noTotalDeadline()
            .initialBackoff(Duration.ofMillis(50)).maxBackoff(Duration.ofMillis(50)).build()));

    CompletableFuture<?> call = client.async().get("t", "m-1");
    call.cancel(true);

    assertThat(call).isCancelled();
    int attempts = gateway.store.getMessageCalls.get();
    // Not a wait for something to happen but a look for something that must not: with retries
    // going on, 300 ms hold about six more attempts.
    Thread.sleep(300);
    assertThat(gateway.store.getMessageCalls.get()).isLessThanOrEqualTo(attempts + 1);
  }

  @Test
  void noRetriesMakesEveryCallOnce() {
    gateway.store.failWith = Status.UNAVAILABLE;
    MessageStoreClient client = client(MessageStoreClientOptions.builder().noRetries());

    assertThatThrownBy(() -> client.send("t", Role.ROLE_USER, "hi")).isInstanceOf(MessageStoreException.class);
    assertThatThrownBy(() -> client.get("t", "m")).isInstanceOf(MessageStoreException.class);
    assertThat(gateway.store.sendRequests).hasSize(1);
    assertThat(gateway.store.getMessageCalls.get()).isEqualTo(1);
  }
}
