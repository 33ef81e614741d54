package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.api.v1.ThreadEvent.Type;
import io.messagestore.client.FakeMessageStore.WatchScript;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ThreadWatchTest {
  private static final String THREAD = "t-1";

  private InProcessGateway gateway;

  @BeforeEach
  void start() throws Exception {
    gateway = new InProcessGateway();
  }

  @AfterEach
  void stop() throws Exception {
    gateway.close();
  }

  /** A watch that waits 1 ms before reconnecting, so tests need not wait the real backoff. */
  private ThreadWatch watch(String after) {
    MessageStoreGrpc.MessageStoreBlockingStub stub = MessageStoreGrpc.newBlockingStub(gateway.channel);
    return new ThreadWatch(THREAD, after, stub::watchThread, Duration.ofMillis(1));
  }

  private static ThreadEvent confirmed(String id) {
    return ThreadEvent.newBuilder().setType(Type.MESSAGE_CONFIRMED).setThreadId(THREAD)
        .setMessageId(id).build();
  }

  private static ThreadEvent persisted(String id) {
    return ThreadEvent.newBuilder().setType(Type.MESSAGE_PERSISTED).setThreadId(THREAD)
        .setMessageId(id).build();
  }

  private static ThreadEvent deleted() {
    return ThreadEvent.newBuilder().setType(Type.THREAD_DELETED).setThreadId(THREAD).build();
  }

  private static List<String> drain(ThreadWatch watch) {
    List<String> seen = new ArrayList<>();
    watch.forEachRemaining(e -> seen.add(e.getType() + " " + e.getMessageId()));
    return seen;
  }

  @Test
  void aBrokenStreamIsResumedAfterTheLastConfirmedMessage() {
    gateway.store.watchScripts.add(WatchScript.thenFail(Status.UNAVAILABLE.withDescription("gateway restarting"),
        confirmed("01-a"), persisted("01-a"), confirmed("01-b")));
    gateway.store.watchScripts.add(WatchScript.thenComplete(confirmed("01-c")));
    List<String> reconnectReasons = new ArrayList<>();

    try (ThreadWatch watch = watch("")) {
      watch.onReconnect(e -> reconnectReasons.add(e.getCode() + ": " + e.getDescription()));

      assertThat(drain(watch)).containsExactly("MESSAGE_CONFIRMED 01-a", "MESSAGE_PERSISTED 01-a",
          "MESSAGE_CONFIRMED 01-b", "MESSAGE_CONFIRMED 01-c");
      assertThat(watch.reconnects()).isEqualTo(1);
    }
    assertThat(gateway.store.watchRequests).extracting(r -> r.getAfterMessageId())
        .containsExactly("", "01-b");
    assertThat(reconnectReasons).containsExactly("UNAVAILABLE: gateway restarting");
  }

  @Test
  void aConfirmationTheServerRepeatsAfterAResumeIsDeliveredOnce() {
    gateway.store.watchScripts.add(WatchScript.thenFail(Status.RESOURCE_EXHAUSTED,
        confirmed("01-a"), confirmed("01-b")));
    gateway.store.watchScripts.add(WatchScript.thenComplete(confirmed("01-b"), confirmed("01-c")));

    try (ThreadWatch watch = watch("01-0")) {
      assertThat(drain(watch)).containsExactly("MESSAGE_CONFIRMED 01-a", "MESSAGE_CONFIRMED 01-b",
          "MESSAGE_CONFIRMED 01-c");
    }
    assertThat(gateway.store.watchRequests).extracting(r -> r.getAfterMessageId())
        .containsExactly("01-0", "01-b");
  }

  @Test
  void threadDeletedIsTheLastEventEvenIfTheStreamStaysOpen() {
    gateway.store.watchScripts.add(WatchScript.thenStayOpen(confirmed("01-a"), deleted()));

    try (ThreadWatch watch = watch("")) {
      assertThat(drain(watch)).containsExactly("MESSAGE_CONFIRMED 01-a", "THREAD_DELETED ");
    }
  }

  @Test
  void permissionDeniedEndsTheWatchWithAnError() {
    gateway.store.watchScripts.add(WatchScript.thenFail(
        Status.PERMISSION_DENIED.withDescription("thread 't-1' belongs to another user")));

    try (ThreadWatch watch = watch("")) {
      assertThatThrownBy(watch::hasNext).isInstanceOfSatisfying(MessageStoreException.class, e -> {
        assertThat(e.getRpc()).isEqualTo("WatchThread");
        assertThat(e.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      });
      assertThat(watch.hasNext()).isFalse();
    }
    assertThat(gateway.store.watchRequests).hasSize(1);
  }

  @Test
  void closeWakesAReaderBlockedOnAQuietStream() throws Exception {
    gateway.store.watchScripts.add(WatchScript.thenStayOpen());
    ThreadWatch watch = watch("");
    CompletableFuture<Boolean> reader = CompletableFuture.supplyAsync(watch::hasNext);
    // The reader must be blocked in the open stream before close() is meaningful.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (gateway.store.watchRequests.isEmpty() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }

    watch.close();

    assertThat(reader.get(10, TimeUnit.SECONDS)).isFalse();
  }

  @Test
  void theClientOpensTheStreamOnlyWhenTheWatchIsRead() {
    gateway.store.watchScripts.add(WatchScript.thenComplete(confirmed("01-a")));

    try (ThreadWatch watch = gateway.client("token-1").watch(THREAD, "01-0")) {
      assertThat(gateway.store.watchRequests).isEmpty();
      assertThat(drain(watch)).containsExactly("MESSAGE_CONFIRMED 01-a");
    }
    assertThat(gateway.store.authorizationHeaders).containsExactly("Bearer token-1");
  }
}
