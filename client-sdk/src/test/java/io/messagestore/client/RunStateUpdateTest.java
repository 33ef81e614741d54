package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.messagestore.api.v1.PutRunStateRequest;
import io.messagestore.api.v1.RunState;
import io.messagestore.api.v1.TtlClass;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** updateRunState's read-apply-write rounds against the fake's compare-and-set. */
class RunStateUpdateTest {
  private InProcessGateway gateway;

  @BeforeEach
  void start() throws Exception {
    gateway = new InProcessGateway();
  }

  @AfterEach
  void stop() throws Exception {
    gateway.close();
  }

  static byte[] increment(byte[] state) {
    long n = state == null ? 0 : Long.parseLong(new String(state, StandardCharsets.UTF_8));
    return Long.toString(n + 1).getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void theFirstUpdateCreatesTheRunAndLaterOnesWriteOnTheVersionTheyRead() {
    MessageStoreClient client = gateway.client("jwt");

    RunState first = client.updateRunState("r", RunStateUpdateTest::increment);
    RunState second = client.updateRunState("r", RunStateUpdateTest::increment);

    assertThat(first.getState().toStringUtf8()).isEqualTo("1");
    assertThat(second.getState().toStringUtf8()).isEqualTo("2");
    assertThat(second.getVersion()).isEqualTo(2);
    assertThat(gateway.store.putRunStateRequests).extracting(PutRunStateRequest::getExpectedVersion)
        .containsExactly(0L, 1L);
  }

  @Test
  void tenConcurrentUpdatersLoseNoUpdate() throws Exception {
    MessageStoreClient client = MessageStoreClient.create(gateway.channel, () -> "jwt",
        MessageStoreClientOptions.builder().runStateUpdateAttempts(1_000).build());
    client.updateRunState("contended", RunStateUpdateTest::increment);
    ExecutorService threads = Executors.newFixedThreadPool(10);
    try {
      List<CompletableFuture<Void>> done = new ArrayList<>();
      for (int t = 0; t < 10; t++) {
        done.add(CompletableFuture.runAsync(() -> {
          for (int i = 0; i < 20; i++) {
            client.updateRunState("contended", RunStateUpdateTest::increment);
          }
        }, threads));
      }
      CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get();
    } finally {
      threads.shutdownNow();
    }

    RunState end = client.getRunState("contended", 0).getRunState();
    assertThat(end.getState().toStringUtf8()).isEqualTo("201");
    assertThat(end.getVersion()).isEqualTo(201);
  }

  @Test
  void theUpdateKeepsTheRunsThreadAndTtlClass() {
    gateway.store.runStates.put("r", RunState.newBuilder().setRunId("r").setVersion(3)
        .setThreadId("th").setTtlClass(TtlClass.PERSISTENT).setState(ByteString.copyFromUtf8("5")).build());

    gateway.client("jwt").updateRunState("r", RunStateUpdateTest::increment);

    PutRunStateRequest written = gateway.store.putRunStateRequests.peek();
    assertThat(written.getThreadId()).isEqualTo("th");
    assertThat(written.getTtlClass()).isEqualTo(TtlClass.PERSISTENT);
    assertThat(written.getExpectedVersion()).isEqualTo(3);
    assertThat(written.getState().toStringUtf8()).isEqualTo("6");
  }

  @Test
  void aRunThatKeepsChangingEndsWithAbortedAfterTheConfiguredRounds() {
    gateway.store.runStates.put("r", RunState.newBuilder().setRunId("r").setVersion(1)
        .setState(ByteString.copyFromUtf8("1")).build());
    MessageStoreClient client = MessageStoreClient.create(gateway.channel, () -> "jwt",
        MessageStoreClientOptions.builder().runStateUpdateAttempts(3).build());

    // Another writer moves the run on between each read and write.
    assertThatThrownBy(() -> client.updateRunState("r", state -> {
      RunState current = gateway.store.runStates.get("r");
      gateway.store.runStates.put("r", current.toBuilder().setVersion(current.getVersion() + 1).build());
      return increment(state);
    })).isInstanceOfSatisfying(MessageStoreException.class, e -> {
      assertThat(e.getCode()).isEqualTo(Status.Code.ABORTED);
      assertThat(e.getAttempts()).isEqualTo(3);
      assertThat(e.getDescription()).contains("changed under every one of 3");
    });
    assertThat(gateway.store.putRunStateRequests).hasSize(3);
  }

  /** The server's conflict text quotes the run id: whether a run is completed is read, not searched for. */
  @Test
  void aConflictOnARunWhoseIdSaysCompletedIsRetriedLikeAnyOther() {
    gateway.store.runStates.put("completed-jobs", RunState.newBuilder().setRunId("completed-jobs").setVersion(1)
        .setState(ByteString.copyFromUtf8("1")).build());
    boolean[] movedOnce = {false};

    RunState end = gateway.client("jwt").updateRunState("completed-jobs", state -> {
      if (!movedOnce[0]) {
        movedOnce[0] = true;
        RunState current = gateway.store.runStates.get("completed-jobs");
        gateway.store.runStates.put("completed-jobs", current.toBuilder().setVersion(current.getVersion() + 1)
            .setState(ByteString.copyFromUtf8("2")).build());
      }
      return increment(state);
    });

    assertThat(end.getState().toStringUtf8()).isEqualTo("3");
    assertThat(gateway.store.putRunStateRequests).hasSize(2);
  }

  /** With write retries on, a retried write that finds its own first attempt is the update, applied once. */
  @Test
  void aRetriedWriteWhoseFirstAttemptLandedIsNotAppliedAgain() {
    gateway.store.runStates.put("r", RunState.newBuilder().setRunId("r").setVersion(1)
        .setState(ByteString.copyFromUtf8("1")).build());
    gateway.store.losePutRunStateAnswers.set(1);
    MessageStoreClient client = MessageStoreClient.create(gateway.channel, () -> "jwt",
        MessageStoreClientOptions.builder().retryPolicy(CallType.OTHER_WRITE, RetryPolicy.builder()
            .initialBackoff(java.time.Duration.ofMillis(1)).maxBackoff(java.time.Duration.ofMillis(5)).build())
            .build());

    RunState end = client.updateRunState("r", RunStateUpdateTest::increment);

    assertThat(end.getVersion()).isEqualTo(2);
    assertThat(end.getState().toStringUtf8()).isEqualTo("2");
    assertThat(gateway.store.runStates.get("r").getState().toStringUtf8()).isEqualTo("2");
  }

  @Test
  void aCompletedRunIsNotWrittenAndTheUpdateFunctionsExceptionReachesTheCaller() {
    gateway.store.runStates.put("done", RunState.newBuilder().setRunId("done").setVersion(4).setCompleted(true).build());
    MessageStoreClient client = gateway.client("jwt");

    assertThatThrownBy(() -> client.updateRunState("done", RunStateUpdateTest::increment))
        .isInstanceOfSatisfying(MessageStoreException.class,
            e -> assertThat(e.getDescription()).contains("completed"));
    assertThatThrownBy(() -> client.async().updateRunState("r", s -> {
      throw new IllegalStateException("bad state");
    }).join()).hasRootCauseInstanceOf(IllegalStateException.class).hasRootCauseMessage("bad state");
    assertThatThrownBy(() -> client.updateRunState("r", s -> {
      throw new IllegalStateException("bad state");
    })).isInstanceOf(IllegalStateException.class).hasMessage("bad state");
    assertThat(gateway.store.putRunStateRequests).isEmpty();
  }
}
